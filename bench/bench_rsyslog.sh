#!/bin/sh
# bench/bench_rsyslog.sh - sustained throughput of the whole live daemon
# (syslog over TCP, decoding, the full rule set, the store, commits,
# a JSON-lines output) beside rsyslog receiving the same TCP stream into a
# file (imtcp, omfile), as a ratio.
#
# The same N generated Postfix/Dovecot messages (bench/live_latency.py's
# mix, RFC 3164, LF framing) are pushed over one TCP connection on
# 127.0.0.1 as fast as each receiver takes them. Time: from the first byte
# sent to the last message processed (rsyslog: its N-th line in the file;
# kenchi: its N-th record decoded, by the metrics endpoint; its store writer
# is then at most a few batches behind, and the drain at SIGTERM is timed
# apart). Both run as the current user with their own configuration and
# files in a temporary directory, and are stopped by the script (and by
# `timeout` should it fail).
#
# Environment: KENCHI (default build/release/kenchi), BENCH_MESSAGES
# (default 1000000), KENCHI_SHARED (SigmaHQ rules under data/sigma/rules*,
# skipped with a note when absent). Installs the Debian package rsyslog
# when rsyslogd is missing (apt-get; a benchmark, never a test).
cd "$(dirname "$0")/.." || exit 3
if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; then
    echo "# rsyslogd missing: apt-get install rsyslog"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rsyslog >/dev/null || {
        echo "bench_rsyslog: cannot install rsyslog" >&2
        exit 3
    }
fi
exec python3 bench/rsyslog_ratio.py
