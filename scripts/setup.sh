#!/bin/sh
# Installs what kenchi needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent: asks apt only for packages that are missing.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev \
 zlib1g-dev libzstd-dev libsqlite3-dev libevtx-dev libbfio-dev libxxhash-dev \
 libcmocka-dev libjansson-dev libyaml-dev libpcre2-dev libcurl4-openssl-dev libssl-dev\
 libmaxminddb-dev \
 zstd python3 python3-yaml python3-jsonschema fail2ban"
# Hyperscan (Sigma literal prefilter) exists for x86-64 only; elsewhere the
# build leaves the prefilter out.
case "$(uname -m)" in x86_64|amd64) PKGS="$PKGS libhyperscan-dev" ;; esac
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fail2ban is only a benchmark baseline: keep its service from starting.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
