#!/bin/sh
# The plugin under valgrind's memcheck in real tshark, on every capture made
# in test-captures/ (an ASan build of a plugin cannot load into a tshark that
# was not built with ASan; memcheck needs no rebuild). Any invalid read or
# write, or use of uninitialised memory, fails the test (exit code 9 from
# valgrind); leaks are not counted, as tshark frees little at exit by design.
# usage: check_plugin_valgrind.sh PLUGIN_DIR TEST_CAPTURES_DIR
set -u
plugins=$1
caps=$2
if ! command -v valgrind >/dev/null; then
	echo "FAIL valgrind is not installed (setup.sh installs it)"
	exit 1
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
chmod 755 "$home"
pre="sh $(dirname "$0")/unpriv.sh" # root: tshark would ignore WIRESHARK_PLUGIN_DIR
fail=0 n=0
for pcap in "$caps"/*.pcap "$caps"/*.pcapng; do
	[ -f "$pcap" ] || continue
	n=$((n + 1))
	out=$($pre env HOME="$home" WIRESHARK_PLUGIN_DIR="$plugins" valgrind -q --error-exitcode=9 --leak-check=no \
		tshark -2 -q -r "$pcap" -z tcpphase,tree 2>"$home/err")
	rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^TCP Phases:"; then
		echo "ok   $(basename "$pcap"): tshark -2 -z tcpphase,tree under memcheck, no errors"
	else
		echo "FAIL $(basename "$pcap"): exit $rc$(printf '%s' "$out" | grep -q '^TCP Phases:' || echo ', no TCP Phases tree (plugin not loaded?)')"
		head -40 "$home/err"
		fail=1
	fi
done
[ $n -gt 0 ] || { echo "FAIL no captures in $caps"; exit 1; }
exit $fail
