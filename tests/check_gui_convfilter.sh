#!/bin/sh
# Manual check (not in ctest: it needs the Qt GUI, Xvfb and xdotool, which
# CI has not): Analyze > Conversation Filter > TCP Phase in the real
# Wireshark GUI applies the display filter tcpphase.uid == "<uid>" of the
# selected frame's connection, and that filter selects the frames the CLI
# gives that connection.
#
# Usage: tests/check_gui_convfilter.sh [CAPTURE [FRAME]]
#   defaults: test-captures/port-reuse.pcap, frame 14 (in its second
#   connection on the same 4-tuple, which TCP's conversation filter would
#   merge with the first).
# Needs what plugin/screenshot.sh installs and the plugin (and the CLI,
# for the last step) built for the installed series in $TP_BUILD_DIR
# (default build/). Wireshark runs through tests/unpriv.sh.
#
# The menu is walked by keyboard: Alt+A opens Analyze, Down TP_CONV_ITEM
# times reaches Conversation Filter (the enabled items above it differ by
# series, see below), Right opens it, Up wraps to its last item, which is
# TCP Phase (plugins register after Wireshark's own dissectors). Ctrl+Q
# quits, so that Wireshark writes the filter it applied to the profile's
# recent_common (recent.display_filter, newest first), which is compared.
# TP_KEEP=1 keeps the scratch folder, with screenshots of each step.
set -eu

die() { echo "check_gui_convfilter: FAIL $*" >&2; exit 1; }
say() { echo "check_gui_convfilter: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAP=$(realpath -m "${1:-$ROOT/test-captures/port-reuse.pcap}")
FRAME=${2:-14}
BUILD=$(realpath -m "${TP_BUILD_DIR:-$ROOT/build}")
SERIES=$(tshark --version 2>/dev/null | sed -n '1s/^[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\)\..*/\1/p')
[ -n "$SERIES" ] || die "cannot tell the Wireshark version from 'tshark --version'"
PLUGIN=$BUILD/plugins/$SERIES/epan/tcpphase.so
[ -f "$PLUGIN" ] || die "no plugin for Wireshark $SERIES at $PLUGIN (build it first)"
[ -r "$CAP" ] || die "cannot read capture $CAP"
for p in wireshark tshark Xvfb xdotool import; do
	command -v $p >/dev/null || die "$p is missing (plugin/screenshot.sh installs it)"
done
# Analyze opens with its first item active, and Down skips disabled items:
# with a packet selected and no field, 4.0 and 4.6 alike have Display
# Filters, Display Filter Macros, Display Filter Expression, (Apply as
# Column is disabled), Apply as Filter and Prepare as Filter above it.
ITEM=${TP_CONV_ITEM:-5}

TMP=$(mktemp -d /tmp/tcpphase-conv.XXXXXX)
XVFB_PID="" WS_PID=""
cleanup() {
	set +e
	for pid in $WS_PID $XVFB_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	rm -rf "$TMP"
}
on_exit() {
	rc=$?
	if [ -n "${TP_KEEP:-}" ]; then
		rm -rf /tmp/tcpphase-conv-kept
		cp -r "$TMP" /tmp/tcpphase-conv-kept
	fi
	cleanup
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a private profile, readable by whoever unpriv.sh runs Wireshark as -----
chmod 755 "$TMP"
mkdir -p "$TMP/plugins/$SERIES/epan" "$TMP/cap" "$TMP/runtime"
cp "$PLUGIN" "$TMP/plugins/$SERIES/epan/"
cp "$CAP" "$TMP/cap/"
CAP=$TMP/cap/$(basename "$CAP")
CONF=$TMP/home/.config/wireshark
mkdir -p "$CONF"
printf 'gui.geometry_main_x: 0\ngui.geometry_main_y: 0\ngui.geometry_main_width: 1200\ngui.geometry_main_height: 700\ngui.geometry_main_maximized: FALSE\nprivs.warn_if_elevated: FALSE\n' >"$CONF/recent_common"
chmod -R a+rX "$TMP"
mkdir "$TMP/probe" && chmod 1777 "$TMP/probe"
sh "$ROOT/tests/unpriv.sh" touch "$TMP/probe/owner" || die "cannot run unprivileged"
chown -R "$(stat -c %u:%g "$TMP/probe/owner")" "$TMP/home" "$TMP/runtime"
chmod 700 "$TMP/runtime"
wsenv() {
	sh "$ROOT/tests/unpriv.sh" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
		XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$TMP/plugins" \
		QT_QPA_PLATFORM=xcb QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 "$@"
}

# ---- what the filter must be: the frame's uid, as tshark shows it -----------
UID_=$(wsenv tshark -2 -r "$CAP" -Y "frame.number == $FRAME" -T fields -e tcpphase.uid 2>/dev/null)
case $UID_ in C?*) ;; *) die "frame $FRAME of $CAP has no tcpphase.uid ('$UID_'): not loaded, or no TCP?" ;; esac
WANT="tcpphase.uid == \"$UID_\""
say "Wireshark $SERIES, frame $FRAME is in connection $UID_"

# ---- the GUI -----------------------------------------------------------------
Xvfb -displayfd 9 -screen 0 1240x760x24 -nolisten tcp 9>"$TMP/display" 2>/dev/null &
XVFB_PID=$!
i=0
until [ -s "$TMP/display" ]; do i=$((i + 1)); [ $i -lt 100 ] || die "Xvfb did not start"; sleep 0.1; done
DISPLAY=:$(head -n1 "$TMP/display")
export DISPLAY
( exec sh "$ROOT/tests/unpriv.sh" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
	XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$TMP/plugins" QT_QPA_PLATFORM=xcb \
	QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 \
	wireshark -r "$CAP" -g "$FRAME" >"$TMP/ws.log" 2>&1 ) &
WS_PID=$!
TITLE=$(basename "$CAP" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
WID=$(timeout 60 xdotool search --sync --onlyvisible --name "^$TITLE" 2>/dev/null | head -n1) || true
[ -n "$WID" ] || die "no Wireshark window: $(cat "$TMP/ws.log")"
settle() {
	prev="" n=0
	while [ $n -lt 40 ]; do
		sleep 0.4
		cur=$(import -window root rgb:- 2>/dev/null | md5sum)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur n=$((n + 1))
	done
}
shot() { import -window root "$TMP/$1.png" 2>/dev/null || true; }
settle
xdotool windowfocus "$WID" 2>/dev/null || true
shot 0-loaded
xdotool key --delay 150 alt+a
sleep 0.5
xdotool key --delay 100 --repeat "$ITEM" Down
sleep 0.3
shot 1-analyze
xdotool key --delay 150 Right
sleep 0.5
xdotool key --delay 150 Up
sleep 0.3
shot 2-submenu
xdotool key --delay 150 Return
settle
shot 3-applied
xdotool windowfocus "$WID" 2>/dev/null || true
xdotool key --delay 150 ctrl+q
i=0
while kill -0 "$WS_PID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "Wireshark did not quit on Ctrl+Q in 20 s (a dialog open? TP_KEEP=1 keeps screenshots)"
	sleep 0.2
done
wait "$WS_PID" 2>/dev/null || true
WS_PID=""

# ---- what it applied --------------------------------------------------------
GOT=$(sed -n 's/^recent\.display_filter: //p' "$CONF/recent_common" | head -n1)
[ "$GOT" = "$WANT" ] || die "the applied filter is '$GOT', want '$WANT' (TP_CONV_ITEM=$ITEM; TP_KEEP=1 keeps screenshots)"
say "Analyze > Conversation Filter > TCP Phase applied: $GOT"

# ---- it selects the connection's frames, per the CLI ------------------------
if [ -x "$BUILD/tcpphase" ]; then
	sel=$(wsenv tshark -2 -r "$CAP" -Y "$GOT" -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
	cli=$("$BUILD/tcpphase" -r "$CAP" -F json --segments --no-summary --wireshark "$SERIES" |
		grep "\"type\":\"segment\".*\"uid\":\"$UID_\"" | sed 's/.*"frame":\([0-9]*\),.*/\1/' | tr '\n' ' ')
	[ -n "$sel" ] && [ "$sel" = "$cli" ] || die "tshark -Y '$GOT' selects frames '$sel', the CLI's record of $UID_ has '$cli'"
	say "it selects the CLI's frames of $UID_: $sel"
else
	say "no CLI at $BUILD/tcpphase: the frames it selects were not compared"
fi
say "PASS"
