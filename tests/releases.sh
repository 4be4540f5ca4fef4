#!/bin/sh
# The README's two commands, ./setup.sh then ./run-tests.sh, from a fresh
# clone in a fresh root of another Debian release: Debian 13 (trixie, with
# Wireshark 4.4) and Debian unstable (sid, with Wireshark 4.6) by default.
# Then the Debian package built there is installed in a second fresh root of
# the same release (tests/check_deb_fresh.sh). Together with ./run-tests.sh
# on a Debian 12 host (Wireshark 4.0) this is what CI runs (.ci/run).
#
# A root is made with mmdebstrap from Debian's own archive, holding only
# apt: setup.sh installs the rest, as it does on a user's new machine. Two
# tarballs per release are kept in $TP_ROOT_CACHE (default
# /var/cache/tcpphase/roots; empty: no cache), keyed by the release and what
# decides their packages (mmdebstrap's options here, and setup.sh): the bare
# root, and the root as setup.sh left it, before anything is built. A later
# run skips the download; a run with an empty cache does everything. Each
# run works in roots of its own and removes them.
#
# Root only (mmdebstrap, chroot). Inside the chroot tshark cannot be put in a
# user namespace, so the plugin tests run it as nobody (tests/unpriv.sh).
#
# usage: tests/releases.sh [RELEASE ...]
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
umask 022 # the plugin tests read the clone as nobody
releases=${*:-trixie sid}
cache=${TP_ROOT_CACHE-/var/cache/tcpphase/roots}
work=$(mktemp -d /var/tmp/tcpphase-releases.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -n "$cache" ] || cache=$work/cache

if [ "$(id -u)" -ne 0 ]; then
	echo "releases: making and entering Debian roots needs root" >&2
	exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
	echo "releases: installing mmdebstrap" >&2
	env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# Run a command in the root $1 with /proc, /sys and /dev/pts mounted, in a
# mount namespace of its own: the mounts go away with it, whatever happens.
in_root() {
	unshare --mount --propagation private sh -eu -c '
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount -t sysfs sysfs "$r/sys"
		mount --bind /dev/pts "$r/dev/pts"
		mount -t tmpfs tmpfs "$r/dev/shm" 2>/dev/null || true
		exec chroot "$r" "$@"' in_root "$@"
}

# Extract tarball $2 into a new root folder $1; fails if there is none.
from_cache() {
	[ -f "$2" ] || return 1
	mkdir -m 755 "$1"
	tar -xf "$2" -C "$1"
}

to_cache() { # root, tarball
	mkdir -p "$(dirname "$2")"
	tar -cf "$2.part" -C "$1" . && mv "$2.part" "$2"
}

# A bare root of release $1 in $2.
bare_root() {
	from_cache "$2" "$cache/$1-bare-$key.tar" && return
	echo "releases: $1: making a root with mmdebstrap"
	# An unstable Release file can be past its Valid-Until date in the
	# archive copy we reach.
	# shellcheck disable=SC2086
	mmdebstrap --quiet $recipe --aptopt='Acquire::Check-Valid-Until "false"' "$1" "$2"
	chmod 755 "$2"
	to_cache "$2" "$cache/$1-bare-$key.tar"
}

# A root of release $1 in $2 with setup.sh's packages installed.
build_root() {
	if from_cache "$2" "$cache/$1-deps-$key.tar"; then
		echo "releases: $1: root from the cache ($cache/$1-deps-$key.tar)"
		return
	fi
	bare_root "$1" "$2"
	mkdir -p "$2/tmp/setup"
	cp setup.sh "$2/tmp/setup/"
	in_root "$2" sh /tmp/setup/setup.sh --deps-only
	rm -rf "$2/tmp/setup"
	to_cache "$2" "$cache/$1-deps-$key.tar"
}

# What a cached root holds follows from these and setup.sh's package list.
recipe="--variant=apt --include=ca-certificates"
key=$( (echo "$recipe"; cat setup.sh) | sha256sum | cut -c1-16)
rm -f $(find "$cache" -name '*.tar' ! -name "*-$key.tar" 2>/dev/null) # older keys

fail=""
for rel in $releases; do
	start=$(date +%s)
	root=$work/$rel-build
	build_root "$rel" "$root"
	git clone -q "$src" "$root/src"
	echo "releases: $rel: ./setup.sh and ./run-tests.sh in a fresh clone of $(git rev-parse --short HEAD)"
	if in_root "$root" sh -c 'cd /src && ./setup.sh && ./run-tests.sh' &&
		in_root "$root" sh -c 'cd /src/build && cpack -G DEB -B /tmp/pkg >/tmp/cpack.log || { cat /tmp/cpack.log; exit 1; }'; then
		pkg=$work/$rel-pkg
		bare_root "$rel" "$pkg"
		cp "$root"/tmp/pkg/tcpphase_*.deb "$root/src/test-captures/lost-final-ack.pcap" \
			"$root/src/tests/check_deb_fresh.sh" "$pkg/tmp/"
		echo "releases: $rel: the package in a fresh root"
		in_root "$pkg" sh /tmp/check_deb_fresh.sh "$(cd "$pkg" && ls tmp/tcpphase_*.deb | sed 's|^|/|')" /tmp/lost-final-ack.pcap ||
			fail="$fail $rel(package)"
		rm -rf "$pkg"
	else
		fail="$fail $rel"
	fi
	echo "releases: $rel: done in $(($(date +%s) - start)) s"
	rm -rf "$root"
done
if [ -n "$fail" ]; then
	echo "releases: failed on:$fail"
	exit 1
fi
echo "releases: green on $releases"
