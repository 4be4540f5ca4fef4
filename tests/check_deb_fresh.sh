#!/bin/sh
# The Debian package on a machine that has nothing of ours: run inside a
# fresh root of the release the package was built on (tests/releases.sh),
# as root. apt-get installs the .deb with what its Depends and Recommends
# pull in (the release's libwireshark, tshark), then the installed CLI
# analyses a capture, and tshark, run as root and so reading only the
# system plugin folder, loads the plugin and shows the lost final ACK.
# usage: check_deb_fresh.sh PACKAGE.deb lost-final-ack.pcap
set -u
deb=$1 pcap=$2
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1
if apt-get install -y -qq "$deb" >/tmp/apt.log 2>&1; then
	ok "apt-get install $(basename "$deb") in a fresh $(. /etc/os-release && echo "$PRETTY_NAME") root"
else
	cat /tmp/apt.log; bad "apt-get install $(basename "$deb")"; exit 1
fi
dpkg-query -W -f='${Depends}\n' tcpphase | sed 's/^/     Depends: /'

out=$(tcpphase -r "$pcap" 2>&1)
echo "$out" | grep -q "lost_final_ack" && ok "the installed tcpphase reports lost_final_ack" ||
	{ echo "$out"; bad "tcpphase -r $(basename "$pcap")"; }

series=$(tshark --version | sed -n '1s/.* \([0-9]*\.[0-9]*\)\.[0-9]*.*/\1/p')
plugins=$(env -u WIRESHARK_PLUGIN_DIR tshark -G plugins 2>&1)
echo "$plugins" | grep -q "^tcpphase\.so.*/plugins/$series/epan/tcpphase\.so$" &&
	ok "tshark $series (root) loads tcpphase.so from the system folder of its series" ||
	{ echo "$plugins" | head -20; bad "tshark -G plugins does not list tcpphase.so under plugins/$series"; }

# The README's check: the FIN frames of the lost final ACK, on the frames
# the CLI names (the final ACK that never arrived, the FIN sent again).
# tshark's stderr apart: as root, 4.4 warns 'Running as user "root"' there.
want=$(tcpphase -r "$pcap" --segments -F csv --no-summary | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$col["anomalies"] ~ /lost_final_ack/ { print $col["frame"] }' | tr '\n' ' ')
# (its stderr apart: tshark warns that it runs as root)
got=$(env -u WIRESHARK_PLUGIN_DIR tshark -2 -r "$pcap" -Y 'tcpphase.anomaly == "lost_final_ack"' \
	-T fields -e frame.number -e tcpphase.step 2>/tmp/tshark.err)
frames=$(echo "$got" | cut -f1 | tr '\n' ' ')
[ -n "$want" ] && [ "$frames" = "$want" ] && echo "$got" | grep -q "FIN" &&
	ok "tshark -2 -Y 'tcpphase.anomaly == \"lost_final_ack\"' prints frames $frames($(echo "$got" | cut -f2 | tr '\n' ' '))" ||
	{ cat /tmp/tshark.err; bad "tshark -2 -Y lost_final_ack printed '$got', the CLI names frames '$want'"; }

[ $fail -eq 0 ] && echo "package: 1 passed, 0 failed" || echo "package: 0 passed, 1 failed"
exit $fail
