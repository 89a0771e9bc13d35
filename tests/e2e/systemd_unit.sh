#!/bin/sh
# systemd_unit.sh - dist/kenchi.service is a valid unit (systemd-analyze
# verify, with ExecStart pointed at the built binary so the check can find
# it), runs kenchi as an unprivileged user with the hardening options named
# in docs/deployment.md, and its offline security exposure stays "OK" or
# better (at most 3.0 on systemd's scale). Prints TAP; skips without
# systemd-analyze.
set -u
cd "$(dirname "$0")/../.." || exit 3
unit=dist/kenchi.service
KENCHI=${KENCHI:-build/debug/kenchi}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the options that must stay, whatever else changes
for opt in 'User=kenchi' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateTmp=yes' \
    'ReadWritePaths=/var/lib/kenchi' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'SystemCallFilter=@system-service' \
    'MemoryDenyWriteExecute=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
    'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' 'LockPersonality=yes' \
    'ExecStart=/usr/bin/kenchi run --config /etc/kenchi/kenchi.yml'; do
    if grep -q "^$opt" "$unit"; then
        echo "ok - unit has $opt"
    else
        echo "not ok - unit has $opt"
    fi
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "ok - systemd-analyze verify # SKIP systemd-analyze is not installed"
    exit 0
fi
bin=$(cd "$(dirname "$KENCHI")" 2>/dev/null && pwd)/$(basename "$KENCHI")
if [ ! -x "$bin" ]; then
    echo "not ok - systemd-analyze verify: $KENCHI is not built"
    exit 0
fi
sed "s#/usr/bin/kenchi#$bin#" "$unit" >"$tmp/kenchi.service"
if systemd-analyze verify --man=no "$tmp/kenchi.service" >"$tmp/verify.log" 2>&1 &&
    ! grep -q . "$tmp/verify.log"; then
    echo "ok - systemd-analyze verify"
else
    echo "not ok - systemd-analyze verify"
    sed 's/^/# /' "$tmp/verify.log" | head -20
fi
# offline security exposure (systemd >= 250 has --offline)
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    systemd-analyze security --offline=true --no-pager "$tmp/kenchi.service" >"$tmp/sec.log" 2>&1
    level=$(sed -n 's/.*Overall exposure level for kenchi.service: \([0-9.]*\).*/\1/p' "$tmp/sec.log")
    if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'; then
        echo "ok - systemd-analyze security exposure $level (at most 3.0)"
    else
        echo "not ok - systemd-analyze security exposure '${level:-?}' (at most 3.0)"
        grep '✗' "$tmp/sec.log" | head -20 | sed 's/^/# /'
    fi
else
    echo "ok - systemd-analyze security # SKIP this systemd-analyze has no --offline"
fi
