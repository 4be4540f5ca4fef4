#!/bin/sh
# `cmake --install` as a user would run it: the CLI and the man page under the
# prefix, the plugin in the personal Wireshark folder of $HOME, and tshark
# loads it from there (in a user namespace when root: Wireshark ignores
# ~/.local for root).
# usage: check_install.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
HOME=$tmp/home cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
# the series the plugin was built for: build/plugins/<major.minor>/epan
series=$(basename "$(dirname "$(dirname "$(ls "$build"/plugins/*/epan/tcpphase.so)")")")
so=$tmp/home/.local/lib/wireshark/plugins/$series/epan/tcpphase.so
fail=0
[ -x "$tmp/prefix/bin/tcpphase" ] && echo "ok   CLI installed in PREFIX/bin" || { echo "FAIL CLI not in $tmp/prefix/bin"; fail=1; }
[ -f "$so" ] && echo "ok   plugin installed in ~/.local/lib/wireshark/plugins/$series/epan" || { echo "FAIL plugin not at $so"; cat "$tmp/log"; fail=1; }
"$tmp/prefix/bin/tcpphase" --version | grep -q '^tcpphase ' && echo "ok   installed CLI runs" || { echo "FAIL installed CLI"; fail=1; }
[ -f "$tmp/prefix/share/man/man1/tcpphase.1.gz" ] && gzip -dc "$tmp/prefix/share/man/man1/tcpphase.1.gz" | cmp -s - "$(dirname "$0")/../doc/tcpphase.1" && echo "ok   man page installed in PREFIX/share/man/man1, gzipped" || { echo "FAIL man page tcpphase.1.gz not in $tmp/prefix/share/man/man1"; fail=1; }
grep -q '^@TCP Phase: lost final ACK@' "$tmp/prefix/share/tcpphase/tcpphase.colorfilters" 2>/dev/null && echo "ok   colouring rules installed in PREFIX/share/tcpphase" || { echo "FAIL no tcpphase.colorfilters in $tmp/prefix/share/tcpphase"; fail=1; }
# the Debian package's own plugin rule (component deb_plugin) is not for cmake --install
if find "$tmp/prefix" -name tcpphase.so | grep -q .; then
	echo "FAIL cmake --install put a tcpphase.so under the prefix:"; find "$tmp/prefix" -name tcpphase.so; fail=1
else
	echo "ok   no plugin under the prefix (the package's rule stays out of cmake --install)"
fi
chmod -R go+rX "$tmp"
chmod 755 "$tmp"
pre="sh $(dirname "$0")/unpriv.sh" # root: tshark ignores ~/.local
if $pre env -u WIRESHARK_PLUGIN_DIR HOME="$tmp/home" tshark -G plugins | grep -q "^tcpphase\.so.*$so\$"; then
	echo "ok   tshark -G plugins lists the installed tcpphase.so"
else
	echo "FAIL tshark -G plugins does not list $so"; fail=1
fi
exit $fail
