/*
 * input.h - byte streams from files: plain, gzip or zstd, told apart by
 * their magic bytes (not by the file name), and standard input.
 */
#ifndef KENCHI_SOURCE_INPUT_H
#define KENCHI_SOURCE_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum input_codec { CODEC_PLAIN, CODEC_GZIP, CODEC_ZSTD };

struct input;

/* Open path ("-" for standard input). Returns 0 and *out, or a negative
 * errno. The caller closes with input_close(). */
int input_open(const char *path, struct input **out);

/* Read up to cap decompressed bytes. Returns the count, 0 at end, or a
 * negative errno (-EBADMSG for corrupt compressed data). */
ssize_t input_read(struct input *in, void *buf, size_t cap);

enum input_codec input_codec(const struct input *in);
/* Modification time of the file in ns (now for standard input). */
int64_t input_mtime_ns(const struct input *in);
void input_close(struct input *in);

#endif
