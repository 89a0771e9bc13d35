/*
 * log.h - kenchi's own log lines (the live daemon): to standard error
 * ("kenchi: LEVEL: message") or to syslog (facility daemon), at or above a
 * configured level. Thread-safe; one line per call.
 */
#ifndef KENCHI_DAEMON_LOG_H
#define KENCHI_DAEMON_LOG_H

#include "config/config.h"

void klog_setup(enum log_dest dest, enum log_level level, const char *ident);
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void klog_close(void);

#endif
