#!/bin/sh
# Set everything up on a fresh Debian 12 (bookworm), Debian 13 (trixie) or
# Debian unstable (sid) machine, build the CLI and the Wireshark plugin for
# the Wireshark that release ships (4.0, 4.4, 4.6), and analyse the capture
# shipped in the repo. Options: --deps-only, --no-run.
set -eu
cd "$(dirname "$0")"

# What each release calls the packages we need. They have kept the same
# names from Debian 12 to unstable so far; a rename goes in the case below.
# file: CPack's Debian generator needs it to read the binaries' dependencies.
# lintian: the package test (ctest deb) checks the .deb with it.
release=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-unknown}")
DEPS="build-essential cmake pkg-config file libpcap-dev libglib2.0-dev libwireshark-dev tshark libcmocka-dev python3 groff-base librsvg2-bin valgrind iproute2 lintian"
case "$release" in
bookworm | trixie | forky | sid) ;;
*) echo "setup: Debian 12, 13 or unstable expected, found '$release'; trying the Debian 12 package names" >&2 ;;
esac

missing=""
for p in $DEPS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "setup: installing on $release:$missing" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup: built build/tcpphase" >&2
for so in build/plugins/*/epan/tcpphase.so; do
	if [ -f "$so" ]; then
		echo "setup: built $so for Wireshark $(pkg-config --modversion wireshark)" >&2
	fi
done
[ "${1:-}" = "--no-run" ] && exit 0

# The main job on the embedded default: every connection of a real Linux
# capture (normal closes, a lost final ACK, a half-open connection, ...).
exec build/tcpphase -r test-captures/demo.pcapng
