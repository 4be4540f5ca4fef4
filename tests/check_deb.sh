#!/bin/sh
# The Debian package as a user meets it: `cpack -G DEB` from the build
# directory, lintian on it (no error or warning that the package's own
# overrides do not name), its copyright file and changelog, `apt-get install
# ./tcpphase_*.deb` on this machine, then the installed CLI, man page and
# plugin (tshark run as root, which reads only the system plugin folder),
# then `dpkg -r tcpphase` removes every file.
#
# Root only (exit 77, shown as skipped, otherwise). It installs into the live
# system, so it refuses (skips) when tcpphase is already installed there, as
# a package or by hand: it would otherwise remove a user's install at the end.
# Run serially (ctest RUN_SERIAL): while the package is installed, every
# tshark on the machine loads its plugin.
# usage: check_deb.sh BUILD_DIR CPACK TEST_CAPTURES_DIR WITH_PLUGIN(0|1)
set -eu
build=$1 cpack=$2 caps=$3 with_plugin=$4

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: installing a package needs root"
	exit 77
fi
for t in "$cpack" dpkg dpkg-deb dpkg-query apt-get tshark lintian; do
	command -v "$t" >/dev/null || { echo "FAIL: $t not found"; exit 1; }
done

bin=/usr/bin/tcpphase
man1=/usr/share/man/man1/tcpphase.1.gz
doc=/usr/share/doc/tcpphase
sysplugins=$(tshark -G folders 2>/dev/null | sed -n 's/^Global Plugins:[[:space:]]*//p')
[ -n "$sysplugins" ] || { echo "FAIL: tshark -G folders names no global plugin folder"; exit 1; }
so=$sysplugins/epan/tcpphase.so

installed() { dpkg-query -W -f='${db:Status-Abbrev}' tcpphase 2>/dev/null | grep -q '^ii'; }
if installed; then
	echo "SKIP: the tcpphase package is already installed (dpkg -r tcpphase to run this test)"
	exit 77
fi
for f in "$bin" "$man1" "$so"; do
	if [ -e "$f" ]; then
		echo "SKIP: $f exists (installed by hand?); this test would remove it"
		exit 77
	fi
done

tmp=$(mktemp -d)
chmod 755 "$tmp" # apt's _apt user reads the .deb
ours=0
cleanup() {
	if [ "$ours" = 1 ] && installed; then
		echo "cleanup: dpkg -r tcpphase"
		dpkg -r tcpphase >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

version=$("$build/tcpphase" --version | sed -n 's/^tcpphase \([^ ]*\).*/\1/p')

# ---- build ------------------------------------------------------------------
if ! (cd "$build" && "$cpack" -G DEB -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1; then
	cat "$tmp/cpack.log"; echo "FAIL cpack -G DEB"; exit 1
fi
set -- "$tmp"/pkg/tcpphase_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || { ls -l "$tmp/pkg"; echo "FAIL not exactly one tcpphase_*.deb"; exit 1; }
deb=$1
ok "cpack -G DEB made $(basename "$deb")"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = tcpphase ] && ok "Package: tcpphase" || bad "Package: $(field Package)"
[ "$(field Version)" = "$version" ] && ok "Version: $version, as tcpphase --version" || bad "Version: $(field Version), CLI says $version"
[ "$(field Section)" = net ] && ok "Section: net" || bad "Section: $(field Section)"
[ -n "$(field Maintainer)" ] && ok "Maintainer: $(field Maintainer)" || bad "no Maintainer"
deps=$(field Depends)
# The runtime packages of this release's libraries, as dpkg knows them:
# libwireshark16 on Debian 12, libwireshark18 on 13, libwireshark19 on
# unstable; libglib2.0-0, or libglib2.0-0t64 since the time_t transition.
owner() { # the package that holds the library a pkg-config module links
	dir=$(pkg-config --variable=libdir "$1")
	dpkg -S "$(readlink -f "$dir/lib$2.so")" | sed -n '1s/:.*//p'
}
need="libc6 $(owner libpcap pcap)"
[ "$with_plugin" = 1 ] && need="$need $(owner wireshark wireshark) $(owner glib-2.0 glib-2.0)"
for d in $need; do
	echo "$deps" | tr ',' '\n' | grep -q "^ *$d\( \|$\)" && ok "Depends names $d" || bad "Depends lacks $d: $deps"
done

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/contents"
for f in "$bin" "$man1" "$doc/copyright" "$doc/changelog.gz"; do
	grep -qx "$f" "$tmp/contents" && ok "package holds $f" || bad "package lacks $f"
done
dpkg-deb -x "$deb" "$tmp/root"
# the man page and the changelog: gzip -9n (no name, no time stamp), whole
for f in "$man1" "$doc/changelog.gz"; do
	if gzip -t "$tmp/root$f" 2>/dev/null && [ "$(od -An -tx1 -j4 -N4 "$tmp/root$f" | tr -d ' ')" = 00000000 ]; then
		ok "$f: gzip without a time stamp"
	else
		bad "$f: not a gzip file without a time stamp"
	fi
done
cmp -s "$tmp/root$man1" "$build/tcpphase.1.gz" && ok "$man1 is the build's tcpphase.1.gz" || bad "$man1 differs from $build/tcpphase.1.gz"
# copyright: Debian's machine-readable format, GPL-2+ as LICENSE says
cr=$tmp/root$doc/copyright
if head -1 "$cr" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
	grep -qx 'Upstream-Name: tcpphase' "$cr" && grep -qx 'License: GPL-2+' "$cr" &&
	grep -q '/usr/share/common-licenses/GPL-2' "$cr"; then
	ok "$doc/copyright: machine-readable, GPL-2+"
else
	bad "$doc/copyright is not the machine-readable GPL-2+ file"
fi
# changelog: its latest entry is this version
top=$(gzip -dc "$tmp/root$doc/changelog.gz" | sed -n '1s/^tcpphase (\([^)]*\)).*/\1/p')
[ "$top" = "$version" ] && ok "changelog.gz: latest entry tcpphase ($version)" ||
	bad "changelog.gz: latest entry '$top', the package is $version (add an entry to packaging/changelog)"

# lintian: no error or warning the package's overrides do not name
lintian --version | sed 's/^/     /'
rc=0
lint=$(lintian --fail-on error,warning --tag-display-limit 0 "$deb" 2>&1) || rc=$?
lint=$(printf '%s\n' "$lint" | grep -v 'running with root privileges is not recommended' || true)
if [ $rc -eq 0 ] && ! printf '%s\n' "$lint" | grep -q '^[EW]: '; then
	ok "lintian: no error, no warning"
	[ -n "$lint" ] && printf '%s\n' "$lint" | sed 's/^/     /'
else
	printf '%s\n' "$lint" | sed 's/^/     /'
	bad "lintian (exit $rc)"
fi
if [ "$with_plugin" = 1 ]; then
	grep -qx "$so" "$tmp/contents" && ok "package holds the plugin in the system folder, $so" || bad "package lacks $so"
fi
if grep -E '^/(root|home)/|/\.local/' "$tmp/contents"; then
	bad "package holds files under a home folder (above)"
fi

# ---- install ----------------------------------------------------------------
ours=1
if env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >"$tmp/apt.log" 2>&1; then
	ok "apt-get install ./$(basename "$deb")"
else
	cat "$tmp/apt.log"; echo "FAIL apt-get install"; exit 1
fi
installed && ok "dpkg: tcpphase installed" || bad "dpkg does not list tcpphase as installed"

out=$(env -u WIRESHARK_PLUGIN_DIR "$bin" --version 2>&1) || true
case $out in
"tcpphase $version "*) ok "$bin --version: $out" ;;
*) bad "$bin --version: $out" ;;
esac

if command -v man >/dev/null; then
	w=$(man -w tcpphase 2>&1) || true
	case $w in
	"$man1"*) ok "man -w tcpphase: $w" ;;
	*) bad "man -w tcpphase: $w" ;;
	esac
	MANWIDTH=80 man tcpphase 2>/dev/null | grep -q 'ANOMALIES' && ok "man tcpphase renders" || bad "man tcpphase does not render"
else
	[ -f "$man1" ] && ok "$man1 installed (man not available)" || bad "$man1 not installed"
fi

if [ "$with_plugin" = 1 ]; then
	# as root, with no WIRESHARK_PLUGIN_DIR: only the system folder is read
	plugins=$(env -u WIRESHARK_PLUGIN_DIR tshark -G plugins 2>/dev/null | grep '^tcpphase\.so' || true)
	echo "     tshark -G plugins: $plugins"
	n=$(printf '%s\n' "$plugins" | grep -c . || true)
	if [ "$n" = 1 ] && printf '%s\n' "$plugins" | grep -q "[[:space:]]$so\$"; then
		ok "tshark (root, no WIRESHARK_PLUGIN_DIR) loads tcpphase.so from $so"
	else
		bad "tshark -G plugins should list tcpphase.so once, from $so"
	fi
	# and it works: the half-open connection of the demo capture
	frames=$(env -u WIRESHARK_PLUGIN_DIR tshark -2 -r "$caps/demo.pcapng" -Y 'tcpphase.anomaly == "half_open"' \
		-T fields -e frame.number 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
	[ -n "$frames" ] && ok "the installed plugin finds half_open in demo.pcapng (frames $frames)" \
		|| bad "the installed plugin finds no half_open in demo.pcapng"
fi

# ---- remove -----------------------------------------------------------------
if dpkg -r tcpphase >"$tmp/rm.log" 2>&1; then
	ok "dpkg -r tcpphase"
else
	cat "$tmp/rm.log"; bad "dpkg -r tcpphase"
fi
installed && bad "tcpphase still installed after dpkg -r" || ok "tcpphase no longer installed"
for f in "$bin" "$man1" "$so" "$doc/copyright" "$doc/changelog.gz"; do
	[ -e "$f" ] && bad "$f still there after dpkg -r" || ok "$f gone"
done
if [ "$with_plugin" = 1 ]; then
	env -u WIRESHARK_PLUGIN_DIR tshark -G plugins 2>/dev/null | grep -q '^tcpphase\.so' \
		&& bad "tshark still lists tcpphase.so" || ok "tshark no longer lists tcpphase.so"
fi
exit $fail
