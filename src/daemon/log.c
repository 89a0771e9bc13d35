/*
 * log.c - see log.h.
 */
#include "daemon/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static enum log_dest g_dest = LOG_STDERR;
static enum log_level g_level = LOGL_INFO;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

void klog_setup(enum log_dest dest, enum log_level level, const char *ident)
{
    g_dest = dest;
    g_level = level;
    if (dest == LOG_SYSLOG)
        openlog(ident ? ident : "kenchi", LOG_PID, LOG_DAEMON);
}

void klog(enum log_level level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (g_dest == LOG_SYSLOG) {
        syslog(prio[level], "%s", msg);
        return;
    }
    pthread_mutex_lock(&g_mu);
    fprintf(stderr, "kenchi: %s: %s\n", names[level], msg);
    pthread_mutex_unlock(&g_mu);
}

void klog_close(void)
{
    if (g_dest == LOG_SYSLOG)
        closelog();
}
