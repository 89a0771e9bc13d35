/*
 * sigpipe.h - writing to a peer that may have gone without dying of
 * SIGPIPE, whatever the process does with the signal.
 *
 * A write to a pipe or socket whose reader is gone raises SIGPIPE, which
 * kills a process that has not ignored it. Outputs cannot use send()'s
 * MSG_NOSIGNAL everywhere (pipes, OpenSSL's socket writes), so around such
 * a write they block SIGPIPE in the calling thread and, when the write
 * failed with EPIPE, take the pending signal back (sigtimedwait, zero
 * wait) before unblocking, so it is never delivered. The write's EPIPE is
 * what the caller sees.
 */
#ifndef KENCHI_OUTPUT_SIGPIPE_H
#define KENCHI_OUTPUT_SIGPIPE_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

struct sigpipe_guard {
    sigset_t old;
    bool was_pending; /* a SIGPIPE of someone else's, left alone */
};

static inline void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

/* Call with epipe true when the guarded write failed with EPIPE. */
static inline void sigpipe_unblock(struct sigpipe_guard *g, bool epipe)
{
    if (epipe && !g->was_pending) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        const struct timespec zero = {0, 0};
        int saved = errno;
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
        errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

#endif
