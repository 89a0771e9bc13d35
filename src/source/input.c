/*
 * input.c - see input.h.
 *
 * Compressed rotated logs (".gz", ".zst") are common in retro-hunts over
 * months of history; they are decompressed as a stream, never into memory as
 * a whole. Both codecs accept concatenated frames/members, as logrotate and
 * `cat a.gz b.gz` produce.
 */
#include "source/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "util/timeconv.h"

#define INBUF_SIZE (256 * 1024)

struct input {
    int fd;
    enum input_codec codec;
    int64_t mtime_ns;
    unsigned char *inbuf; /* compressed bytes */
    size_t in_len, in_pos;
    int eof;
    z_stream zs;
    int zs_live;
    int mid_frame;    /* inside a gzip member / zstd frame */
    int members_done; /* completed gzip members */
    ZSTD_DStream *zd;
    unsigned char peek[4]; /* sniffed bytes handed back on the first read */
    size_t peek_len;
};

static ssize_t raw_read(struct input *in, void *buf, size_t cap)
{
    if (in->peek_len) {
        size_t n = in->peek_len < cap ? in->peek_len : cap;
        memcpy(buf, in->peek, n);
        memmove(in->peek, in->peek + n, in->peek_len - n);
        in->peek_len -= n;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t r = read(in->fd, buf, cap);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -errno : r;
    }
}

static int fill(struct input *in)
{
    if (in->in_pos < in->in_len || in->eof)
        return 0;
    ssize_t r = raw_read(in, in->inbuf, INBUF_SIZE);
    if (r < 0)
        return (int)r;
    if (r == 0)
        in->eof = 1;
    in->in_len = (size_t)r;
    in->in_pos = 0;
    return 0;
}

int input_open(const char *path, struct input **out)
{
    struct input *in = calloc(1, sizeof(*in));
    if (!in)
        return -ENOMEM;
    if (!strcmp(path, "-")) {
        in->fd = 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        in->mtime_ns = time_from_unix(ts.tv_sec, ts.tv_nsec);
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (in->fd < 0) {
            int e = -errno;
            free(in);
            return e;
        }
        struct stat st;
        if (fstat(in->fd, &st) < 0 || S_ISDIR(st.st_mode) ||
            !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
            int e = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
            close(in->fd);
            free(in);
            return e;
        }
        /* opened non-blocking only so that a FIFO without writer cannot hang
         * open(); reads block as usual */
        fcntl(in->fd, F_SETFL, fcntl(in->fd, F_GETFL) & ~O_NONBLOCK);
        in->mtime_ns = time_from_unix(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    /* sniff the codec */
    size_t got = 0;
    while (got < 4) {
        ssize_t r = read(in->fd, in->peek + got, 4 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    in->peek_len = got;
    in->codec = CODEC_PLAIN;
    if (got >= 2 && in->peek[0] == 0x1f && in->peek[1] == 0x8b)
        in->codec = CODEC_GZIP;
    else if (got == 4 && in->peek[0] == 0x28 && in->peek[1] == 0xb5 && in->peek[2] == 0x2f &&
             in->peek[3] == 0xfd)
        in->codec = CODEC_ZSTD;
    if (in->codec != CODEC_PLAIN) {
        in->inbuf = malloc(INBUF_SIZE);
        if (!in->inbuf) {
            input_close(in);
            return -ENOMEM;
        }
    }
    if (in->codec == CODEC_GZIP) {
        if (inflateInit2(&in->zs, 15 + 32) != Z_OK) {
            input_close(in);
            return -ENOMEM;
        }
        in->zs_live = 1;
    } else if (in->codec == CODEC_ZSTD) {
        in->zd = ZSTD_createDStream();
        if (!in->zd || ZSTD_isError(ZSTD_initDStream(in->zd))) {
            input_close(in);
            return -ENOMEM;
        }
    }
    *out = in;
    return 0;
}

static ssize_t gz_read(struct input *in, void *buf, size_t cap)
{
    if (cap > (1u << 30))
        cap = 1u << 30;
    in->zs.next_out = buf;
    in->zs.avail_out = (uInt)cap;
    while (in->zs.avail_out == (uInt)cap) { /* until something comes out */
        int rc = fill(in);
        if (rc < 0)
            return rc;
        if (in->in_pos >= in->in_len)
            return in->mid_frame ? -EBADMSG : 0; /* EOF inside a member: truncated */
        in->zs.next_in = in->inbuf + in->in_pos;
        in->zs.avail_in = (uInt)(in->in_len - in->in_pos);
        int zr = inflate(&in->zs, Z_NO_FLUSH);
        in->in_pos = in->in_len - in->zs.avail_in;
        if (zr == Z_STREAM_END) {
            in->mid_frame = 0; /* a further member may follow (concatenated gzip) */
            if (inflateReset(&in->zs) != Z_OK)
                return -EBADMSG;
        } else if (zr == Z_OK || zr == Z_BUF_ERROR) {
            in->mid_frame = 1;
        } else if (!in->mid_frame && in->members_done) {
            /* junk after the last member (padding): ignore it, as gzip does */
            in->eof = 1;
            in->in_pos = in->in_len;
            return (ssize_t)(cap - in->zs.avail_out);
        } else {
            return -EBADMSG;
        }
        if (zr == Z_STREAM_END)
            in->members_done++;
    }
    return (ssize_t)(cap - in->zs.avail_out);
}

static ssize_t zstd_read(struct input *in, void *buf, size_t cap)
{
    ZSTD_outBuffer ob = {buf, cap, 0};
    while (ob.pos == 0) {
        int rc = fill(in);
        if (rc < 0)
            return rc;
        if (in->in_pos >= in->in_len)
            return in->mid_frame ? -EBADMSG : 0;
        ZSTD_inBuffer ib = {in->inbuf, in->in_len, in->in_pos};
        size_t zr = ZSTD_decompressStream(in->zd, &ob, &ib);
        in->in_pos = ib.pos;
        if (ZSTD_isError(zr))
            return -EBADMSG;
        in->mid_frame = zr != 0;
    }
    return (ssize_t)ob.pos;
}

ssize_t input_read(struct input *in, void *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    switch (in->codec) {
    case CODEC_GZIP:
        return gz_read(in, buf, cap);
    case CODEC_ZSTD:
        return zstd_read(in, buf, cap);
    default:
        return raw_read(in, buf, cap);
    }
}

enum input_codec input_codec(const struct input *in)
{
    return in->codec;
}

int64_t input_mtime_ns(const struct input *in)
{
    return in->mtime_ns;
}

void input_close(struct input *in)
{
    if (!in)
        return;
    if (in->zs_live)
        inflateEnd(&in->zs);
    if (in->zd)
        ZSTD_freeDStream(in->zd);
    if (in->fd > 0)
        close(in->fd);
    free(in->inbuf);
    free(in);
}
