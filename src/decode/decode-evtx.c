/*
 * decode-evtx.c - Windows EVTX files, read through libevtx.
 *
 * libevtx parses the binary format (file header, 64 KiB chunks, binary XML
 * with templates) and renders each record as XML; its value API has no
 * names for EventData values, so kenchi takes the XML and reads it with its
 * own strict reader (decode-winxml.c), which gives the same fields as the
 * JSON decoder for the same event. The record's XML is the event's raw text,
 * so the stable id covers the whole record.
 *
 * Damage. A file is read chunk by chunk; libevtx refuses a chunk that the
 * file does not hold whole, so a file cut in the middle of a chunk (copied
 * while being written, a broken transfer) would lose every record of that
 * chunk. kenchi therefore gives libevtx the file through its own I/O handle
 * that pads the last chunk with zeros: the records before the cut are read,
 * the one that straddles it fails its checks. To count what was lost, the
 * chunk headers (which name their first and last record number) are read
 * directly and compared with the records delivered; the difference, plus
 * records libevtx could not render, is the damaged count the pipeline
 * reports, and each damaged chunk gets its own message.
 *
 * Recovered records. libevtx also finds records in the free space of chunks
 * (deleted or overwritten events, or leftovers of the tool that wrote the
 * file). They are not part of the log and are often garbage, so they are not
 * decoded; their number is reported, since deleted records can be evidence.
 *
 * Memory stays bounded: libevtx keeps a small chunk cache, each record's
 * XML goes into the batch arena, and the per-chunk counters are 16 bytes a
 * chunk.
 */
#include "decode/decode-windows.h"

#include <errno.h>
#include <fcntl.h>
#include <libevtx.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVTX_HEADER_SIZE           4096
#define EVTX_CHUNK_SIZE            65536
#define EVTX_MAX_RECORDS_PER_CHUNK 3000 /* a record is at least 24 bytes */

/* ---- an I/O handle that pads the last chunk with zeros ------------------ */

struct padded_io {
    int fd;
    uint64_t size;   /* real file size */
    uint64_t padded; /* size rounded up to a whole chunk */
    uint64_t off;
};

static int pio_free(intptr_t **io, libbfio_error_t **error)
{
    (void)error;
    *io = NULL; /* owned by evtx_decode_file() */
    return 1;
}

static int pio_clone(intptr_t **dst, intptr_t *src, libbfio_error_t **error)
{
    (void)dst, (void)src, (void)error;
    return -1;
}

static int pio_open(intptr_t *io, int flags, libbfio_error_t **error)
{
    (void)io, (void)flags, (void)error;
    return 1;
}

static int pio_close(intptr_t *io, libbfio_error_t **error)
{
    (void)io, (void)error;
    return 0;
}

static ssize_t pio_read(intptr_t *io, uint8_t *buf, size_t size, libbfio_error_t **error)
{
    struct padded_io *p = (struct padded_io *)io;
    (void)error;
    if (p->off >= p->padded)
        return 0;
    if (size > p->padded - p->off)
        size = (size_t)(p->padded - p->off);
    size_t done = 0;
    while (done < size && p->off + done < p->size) {
        size_t want = size - done;
        if (want > p->size - (p->off + done))
            want = (size_t)(p->size - (p->off + done));
        ssize_t r = pread(p->fd, buf + done, want, (off_t)(p->off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break; /* shrank under us: the rest reads as zeros */
        done += (size_t)r;
    }
    memset(buf + done, 0, size - done);
    p->off += size;
    return (ssize_t)size;
}

static ssize_t pio_write(intptr_t *io, const uint8_t *buf, size_t size, libbfio_error_t **error)
{
    (void)io, (void)buf, (void)size, (void)error;
    return -1;
}

static off64_t pio_seek(intptr_t *io, off64_t offset, int whence, libbfio_error_t **error)
{
    struct padded_io *p = (struct padded_io *)io;
    (void)error;
    int64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? (int64_t)p->off
                   : whence == SEEK_END ? (int64_t)p->padded
                                        : -1;
    if (base < 0 || base + offset < 0)
        return -1;
    p->off = (uint64_t)(base + offset);
    return (off64_t)p->off;
}

static int pio_exists(intptr_t *io, libbfio_error_t **error)
{
    (void)io, (void)error;
    return 1;
}

static int pio_is_open(intptr_t *io, libbfio_error_t **error)
{
    (void)io, (void)error;
    return 1;
}

static int pio_get_size(intptr_t *io, size64_t *size, libbfio_error_t **error)
{
    (void)error;
    *size = ((struct padded_io *)io)->padded;
    return 1;
}

/* ---- chunk headers ------------------------------------------------------ */

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

struct chunk_count {
    uint64_t first_id, last_id; /* record identifiers the header names */
    uint32_t expected;          /* records the header names; 0: header unusable */
    uint32_t got;               /* records delivered or counted as damaged */
};

/* Fill counts[0..nchunks) from the chunk headers. Returns the number of
 * chunks whose header is damaged although the file header says they are in
 * use. */
static uint64_t read_chunk_headers(int fd, uint64_t size, uint64_t nchunks, uint16_t in_use,
                                   struct chunk_count *counts)
{
    uint64_t damaged = 0;
    for (uint64_t c = 0; c < nchunks; c++) {
        unsigned char h[40];
        uint64_t at = EVTX_HEADER_SIZE + c * EVTX_CHUNK_SIZE;
        counts[c].expected = 0;
        bool ok = at + sizeof(h) <= size && pread(fd, h, sizeof(h), (off_t)at) == sizeof(h) &&
                  !memcmp(h, "ElfChnk", 8);
        if (ok) {
            uint64_t first = le64(h + 8), last = le64(h + 16);
            counts[c].first_id = le64(h + 24);
            counts[c].last_id = le64(h + 32);
            if (last >= first && last - first < EVTX_MAX_RECORDS_PER_CHUNK &&
                counts[c].last_id >= counts[c].first_id)
                counts[c].expected = (uint32_t)(last - first + 1);
            else
                ok = false;
        }
        if (!ok && c < in_use)
            damaged++;
    }
    return damaged;
}

/* ---- records ------------------------------------------------------------ */

/* The last line of a libevtx error, for messages. */
static const char *evtx_errmsg(libevtx_error_t *err, char *buf, size_t n)
{
    buf[0] = '\0';
    if (err && libevtx_error_sprint(err, buf, n) > 0) {
        size_t l = strlen(buf);
        while (l && (buf[l - 1] == '\n' || buf[l - 1] == '.' || buf[l - 1] == ' '))
            buf[--l] = '\0';
    }
    return buf[0] ? buf : "unknown error";
}

/* The XML of record r into a fresh event. Returns 0, or -EBADMSG if libevtx
 * cannot render the record. */
static int record_xml(libevtx_record_t *r, struct event *ev, libevtx_error_t **err)
{
    size_t n = 0;
    if (libevtx_record_get_utf8_xml_string_size(r, &n, err) != 1 || n == 0 || n > (64u << 20))
        return -EBADMSG;
    char *xml = arena_alloc(ev->arena, n + 1);
    if (libevtx_record_get_utf8_xml_string(r, (uint8_t *)xml, n, err) != 1)
        return -EBADMSG;
    xml[n] = '\0';
    size_t l = strnlen(xml, n);
    while (l && (xml[l - 1] == '\n' || xml[l - 1] == '\r' || xml[l - 1] == ' '))
        l--;
    ev->raw = str_make(xml, l);
    return 0;
}

static void evtx_error_drop(libevtx_error_t **err)
{
    if (*err)
        libevtx_error_free(err);
}

struct evtx_run {
    struct decode_ctx *ctx;
    struct event_emitter *em;
    libevtx_file_t *file;
    struct chunk_count *counts;
    uint64_t nchunks;
    uint64_t cur_chunk;    /* where the last record was found */
    unsigned full_scans;   /* searches through every chunk so far */
    uint64_t bad_placed;   /* damaged records counted in their chunk's got */
    uint64_t bad_unplaced; /* damaged records whose chunk is unknown */
};

/* The chunk whose header names record identifier id, or UINT64_MAX.
 * Records come in file order, so the chunk of the last record and the two
 * after it are tried first; a search through every chunk is allowed 64
 * times a file, so that a crafted file cannot make this quadratic. */
static uint64_t find_chunk(struct evtx_run *run, uint64_t id)
{
    uint64_t n = run->nchunks;
    if (!id || !n)
        return UINT64_MAX;
    for (uint64_t k = 0; k < n; k++) {
        if (k == 3) {
            if (run->full_scans == 64)
                return UINT64_MAX;
            run->full_scans++;
        }
        uint64_t c = (run->cur_chunk + k) % n;
        const struct chunk_count *cc = &run->counts[c];
        if (cc->expected && id >= cc->first_id && id <= cc->last_id) {
            run->cur_chunk = c;
            return c;
        }
    }
    return UINT64_MAX;
}

/* Read record index i and emit it. Returns 0 or the emitter's error. */
static int emit_record(struct evtx_run *run, int i)
{
    libevtx_error_t *err = NULL;
    libevtx_record_t *r = NULL;
    char msg[256];
    if (libevtx_file_get_record_by_index(run->file, i, &r, &err) != 1) {
        run->bad_unplaced++;
        decode_report(run->ctx, "record #%d: unreadable (%s)", i + 1,
                      evtx_errmsg(err, msg, sizeof(msg)));
        evtx_error_drop(&err);
        return 0;
    }
    uint64_t ident = 0;
    if (libevtx_record_get_identifier(r, &ident, &err) != 1)
        ident = 0;
    evtx_error_drop(&err);
    uint64_t chunk = find_chunk(run, ident);
    if (chunk < run->nchunks)
        run->counts[chunk].got++;

    struct event *ev = run->em->next(run->em->opaque);
    if (!ev) {
        libevtx_record_free(&r, NULL);
        return -ECANCELED;
    }
    int rc = record_xml(r, ev, &err);
    libevtx_record_free(&r, NULL);
    if (rc < 0) {
        /* not handed to done(): next() gives the same slot again */
        if (chunk < run->nchunks)
            run->bad_placed++;
        else
            run->bad_unplaced++;
        decode_report(run->ctx, "record %llu: cannot be rendered (%s)", (unsigned long long)ident,
                      evtx_errmsg(err, msg, sizeof(msg)));
        evtx_error_drop(&err);
        return 0;
    }
    ev->record = ident ? ident : (uint64_t)i + 1;
    if (win_xml_decode(run->ctx, ev) == 0) {
        ev->parsed = true;
        const struct field *rid = event_get(ev, "EventRecordID");
        uint64_t v = 0;
        size_t k = 0;
        for (; rid && k < rid->val.n && k < 19 && rid->val.p[k] >= '0' && rid->val.p[k] <= '9'; k++)
            v = v * 10 + (uint64_t)(rid->val.p[k] - '0');
        if (rid && k == rid->val.n && v)
            ev->record = v;
    } else {
        ev->parsed = false;
        decode_report(run->ctx, "record %llu: not a well-formed event: kept as an unparsed event",
                      (unsigned long long)ev->record);
    }
    return run->em->done(run->em->opaque, ev);
}

/* Emit every record of the open file, then account for what is missing.
 * known_damage: the file was cut or has damaged chunk headers (already
 * reported). Stores the damaged-record count in *bad. Returns 0 or the
 * emitter's error. */
static int read_records(struct evtx_run *run, bool known_damage, uint64_t *bad)
{
    libevtx_error_t *err = NULL;
    int nrec = 0, nrecovered = 0, rc = 0;
    if (libevtx_file_get_number_of_records(run->file, &nrec, &err) != 1)
        nrec = 0;
    evtx_error_drop(&err);
    for (int i = 0; i < nrec && rc == 0; i++)
        rc = emit_record(run, i);
    if (rc < 0)
        return rc;

    uint64_t missing = 0;
    for (uint64_t c = 0; c < run->nchunks; c++) {
        if (run->counts[c].expected > run->counts[c].got) {
            uint64_t m = run->counts[c].expected - run->counts[c].got;
            decode_report(run->ctx, "chunk %llu: %llu of its %u records missing (damaged or cut)",
                          (unsigned long long)c + 1, (unsigned long long)m,
                          run->counts[c].expected);
            missing += m;
        }
    }
    *bad = run->bad_placed + (missing > run->bad_unplaced ? missing : run->bad_unplaced);
    if (libevtx_file_get_number_of_recovered_records(run->file, &nrecovered, &err) == 1 &&
        nrecovered > 0)
        decode_report(run->ctx,
                      "%d records found in free space (deleted or overwritten events): "
                      "not decoded",
                      nrecovered);
    evtx_error_drop(&err);
    if (libevtx_file_is_corrupted(run->file, &err) == 1 && *bad == 0 && !known_damage)
        decode_report(run->ctx, "libevtx marks the file as corrupted; every record was read");
    evtx_error_drop(&err);
    return 0;
}

static int evtx_decode_file(struct decode_ctx *ctx, const char *path, struct event_emitter *em,
                            uint64_t *records_bad)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat sb;
    unsigned char head[48];
    if (fstat(fd, &sb) < 0 || pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
        memcmp(head, "ElfFile", 8)) {
        decode_report(ctx, "not an EVTX file (no complete file header)");
        close(fd);
        return -EINVAL;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < EVTX_HEADER_SIZE) {
        decode_report(ctx, "truncated inside the file header (%llu of %d bytes): no records",
                      (unsigned long long)size, EVTX_HEADER_SIZE);
        close(fd);
        return -EINVAL;
    }
    uint64_t body = size > EVTX_HEADER_SIZE ? size - EVTX_HEADER_SIZE : 0;
    uint64_t nchunks = (body + EVTX_CHUNK_SIZE - 1) / EVTX_CHUNK_SIZE;
    uint16_t in_use = (uint16_t)(head[42] | head[43] << 8);
    struct padded_io pio = {fd, size, EVTX_HEADER_SIZE + nchunks * EVTX_CHUNK_SIZE, 0};
    if (in_use > nchunks)
        decode_report(ctx,
                      "truncated: the file header names %u chunks, the file holds %llu; the "
                      "records of the missing chunks are lost",
                      in_use, (unsigned long long)nchunks);
    if (pio.padded != size)
        decode_report(ctx,
                      "truncated: the file ends %llu bytes into chunk %llu (chunks are %d "
                      "bytes); reading the records before the cut",
                      (unsigned long long)(body % EVTX_CHUNK_SIZE), (unsigned long long)nchunks,
                      EVTX_CHUNK_SIZE);

    struct evtx_run run = {.ctx = ctx, .em = em, .nchunks = nchunks};
    run.counts = calloc(nchunks ? nchunks : 1, sizeof(*run.counts));
    if (!run.counts) {
        close(fd);
        return -ENOMEM;
    }
    uint64_t bad_headers = read_chunk_headers(fd, size, nchunks, in_use, run.counts);
    if (bad_headers)
        decode_report(ctx, "%llu chunk headers damaged: their records are lost",
                      (unsigned long long)bad_headers);

    libbfio_handle_t *h = NULL;
    libbfio_error_t *berr = NULL;
    libevtx_error_t *err = NULL;
    char msg[256];
    int rc = 0;
    uint64_t bad = 0;
    if (libbfio_handle_initialize(&h, (intptr_t *)&pio, pio_free, pio_clone, pio_open, pio_close,
                                  pio_read, pio_write, pio_seek, pio_exists, pio_is_open,
                                  pio_get_size, LIBBFIO_FLAG_IO_HANDLE_NON_MANAGED, &berr) != 1) {
        libbfio_error_free(&berr);
        free(run.counts);
        close(fd);
        return -ENOMEM;
    }
    if (libevtx_file_initialize(&run.file, &err) != 1 ||
        libevtx_file_open_file_io_handle(run.file, h, LIBEVTX_OPEN_READ, &err) != 1) {
        decode_report(ctx, "not a readable EVTX file (%s)", evtx_errmsg(err, msg, sizeof(msg)));
        evtx_error_drop(&err);
        rc = -EINVAL;
        goto out;
    }

    rc = read_records(&run, pio.padded != size || bad_headers || in_use > nchunks, &bad);
    libevtx_file_close(run.file, NULL);
out:
    libevtx_file_free(&run.file, NULL);
    libbfio_handle_free(&h, NULL);
    free(run.counts);
    close(fd);
    *records_bad = bad;
    return rc;
}

const struct decoder decoder_evtx = {
    .name = "evtx",
    .description = "Windows EVTX event log files (binary, read through libevtx)",
    .decode_file = evtx_decode_file,
};
