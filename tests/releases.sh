#!/bin/sh
# The README's two commands, ./setup.sh then ./run-tests.sh, from a fresh
# clone in a fresh root of another Debian release: Debian 13 (trixie, with
# Wireshark 4.4) and Debian unstable (sid, with Wireshark 4.6) by default.
# Together with ./run-tests.sh on a Debian 12 host (Wireshark 4.0) this is
# what CI runs (.ci/run).
#
# A root is made with mmdebstrap from Debian's own archive, holding only
# apt: setup.sh installs the rest, as it does on a user's new machine. The
# root as setup.sh left it (before anything is built) is kept in
# $TP_ROOT_CACHE (default /var/cache/tcpphase/roots; empty: no cache), keyed
# by the release and the two scripts that decide its packages (setup.sh and
# this one), so that a later run skips the download; a run with an empty
# cache does everything. Each run works in a root of its own and removes it.
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

if [ "$(id -u)" -ne 0 ]; then
	echo "releases: making and entering Debian roots needs root" >&2
	exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
	echo "releases: installing mmdebstrap" >&2
	env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# Run a command in the root $1 with /proc and /sys mounted, in a mount
# namespace of its own: the mounts go away with it, whatever happens.
in_root() {
	unshare --mount --propagation private sh -eu -c '
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount -t sysfs sysfs "$r/sys"
		mount -t tmpfs tmpfs "$r/dev/shm" 2>/dev/null || true
		exec chroot "$r" "$@"' in_root "$@"
}

# A root of release $1 in $2 with setup.sh's packages installed, from the
# cache or made now (and then cached).
make_root() {
	rel=$1 root=$2
	key=$(cat setup.sh tests/releases.sh | sha256sum | cut -c1-16)
	tarball=$cache/$rel-$key.tar
	if [ -n "$cache" ] && [ -f "$tarball" ]; then
		echo "releases: $rel: root from the cache ($tarball)"
		tar -xf "$tarball" -C "$root"
		return
	fi
	echo "releases: $rel: making a root with mmdebstrap"
	# An unstable Release file can be past its Valid-Until date in the
	# archive copy we reach.
	mmdebstrap --quiet --variant=apt --include=ca-certificates \
		--aptopt='Acquire::Check-Valid-Until "false"' "$rel" "$root"
	mkdir -p "$root/tmp/setup"
	cp setup.sh "$root/tmp/setup/"
	in_root "$root" sh /tmp/setup/setup.sh --deps-only
	rm -rf "$root/tmp/setup"
	if [ -n "$cache" ]; then
		mkdir -p "$cache"
		rm -f "$cache/$rel"-*.tar # older keys
		tar -cf "$tarball.part" -C "$root" . && mv "$tarball.part" "$tarball"
	fi
}

fail=""
for rel in $releases; do
	start=$(date +%s)
	root=$(mktemp -d /var/tmp/tcpphase-root-"$rel".XXXXXX)
	chmod 755 "$root"
	trap 'rm -rf "$root"' EXIT
	make_root "$rel" "$root"
	git clone -q "$src" "$root/src"
	echo "releases: $rel: ./setup.sh and ./run-tests.sh in a fresh clone of $(git rev-parse --short HEAD)"
	if in_root "$root" sh -c 'cd /src && ./setup.sh && ./run-tests.sh'; then
		echo "releases: $rel: green in $(($(date +%s) - start)) s"
	else
		echo "releases: $rel: FAILED after $(($(date +%s) - start)) s"
		fail="$fail $rel"
	fi
	rm -rf "$root"
	trap - EXIT
done
if [ -n "$fail" ]; then
	echo "releases: failed on:$fail"
	exit 1
fi
echo "releases: green on $releases"
