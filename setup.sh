#!/bin/sh
# Set everything up on a fresh Debian 12 machine, build, and analyse the
# capture shipped in the repo. Options: --deps-only, --no-run.
set -eu
cd "$(dirname "$0")"

DEPS="build-essential cmake pkg-config libpcap-dev libglib2.0-dev libwireshark-dev tshark libcmocka-dev python3 groff-base librsvg2-bin valgrind"
missing=""
for p in $DEPS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "setup: installing$missing" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/tcpphase" >&2
[ "${1:-}" = "--no-run" ] && exit 0

# The main job on the embedded default: every connection of a real Linux
# capture (normal closes, a lost final ACK, a half-open connection, ...).
exec build/tcpphase -r test-captures/demo.pcapng
