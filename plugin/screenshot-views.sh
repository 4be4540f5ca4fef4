#!/bin/sh
# Screenshots of the tcpphase views in the real Wireshark (Qt) GUI under
# Xvfb, for the README: with the shipped colouring rules imported and the
# documented Step / Orig state / Resp state columns,
#   PREFIX-table.png  the packet list (coloured), the TCP Phase subtree of
#                     FRAME, and Statistics > TCP Phase Connections below;
#   PREFIX-flow.png   Statistics > Flow Graph with Flow type "TCP Phase".
# Usage: plugin/screenshot-views.sh [CAPTURE [FRAME [PREFIX]]]
#   defaults: test-captures/lost-final-ack.pcap, frame 11 (the lost final
#   ACK), docs/gui-<series> (e.g. docs/gui-4.6-table.png).
# Needs what plugin/screenshot.sh installs (wireshark, tshark, xvfb, xdotool,
# imagemagick) and the plugin built for the installed series in
# $TP_BUILD_DIR (default build/). Wireshark runs through tests/unpriv.sh.
# The Flow Graph is reached through the menus by keyboard and mouse, so the
# result must be looked at: the script checks only that each window opened.
set -eu

die() { echo "screenshot-views: error: $*" >&2; exit 1; }
say() { echo "screenshot-views: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAP=$(realpath -m "${1:-$ROOT/test-captures/lost-final-ack.pcap}")
FRAME=${2:-11}
SERIES=$(tshark --version 2>/dev/null | sed -n '1s/^[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\)\..*/\1/p')
[ -n "$SERIES" ] || die "cannot tell the Wireshark version from 'tshark --version'"
PREFIX=$(realpath -m "${3:-$ROOT/docs/gui-$SERIES}")
BUILD=$(realpath -m "${TP_BUILD_DIR:-$ROOT/build}")
PLUGIN=$BUILD/plugins/$SERIES/epan/tcpphase.so
[ -f "$PLUGIN" ] || die "no plugin for Wireshark $SERIES at $PLUGIN (build it first)"
for p in wireshark Xvfb xdotool import; do command -v $p >/dev/null || die "$p is missing (plugin/screenshot.sh installs it)"; done
CONVERT=$(command -v convert)
WIN_W=1500 WIN_H=720 TABLE_H=170

TMP=$(mktemp -d /tmp/tcpphase-views.XXXXXX)
XVFB_PID="" WS_PID=""
cleanup() {
	set +e
	for pid in $WS_PID $XVFB_PID; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	rm -rf "$TMP"
}
on_exit() {
	rc=$?
	# TP_KEEP=1 keeps the scratch folder (profile, logs) to look into
	[ -z "${TP_KEEP:-}" ] || cp -r "$TMP" /tmp/tcpphase-views-kept
	cleanup
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a profile: the shipped colouring rules above Wireshark's, the columns --
chmod 755 "$TMP"
mkdir -p "$TMP/plugins/$SERIES/epan" "$TMP/cap" "$TMP/runtime"
cp "$PLUGIN" "$TMP/plugins/$SERIES/epan/"
cp "$CAP" "$TMP/cap/"
CAP=$TMP/cap/$(basename "$CAP")
CONF=$TMP/home/.config/wireshark
mkdir -p "$CONF"
GLOBAL=$(tshark -G folders 2>/dev/null | sed -n 's/^Global configuration:[[:space:]]*//p')
{ cat "$ROOT/plugin/tcpphase.colorfilters"; grep -v '^#' "${GLOBAL:-/usr/share/wireshark}/colorfilters"; } >"$CONF/colorfilters"
cat >"$CONF/preferences" <<'EOF'
gui.layout_type: 1
gui.layout_content_1: PLIST
gui.layout_content_2: PDETAILS
gui.layout_content_3: NONE
gui.column.format: "No.", "%m", "Time", "%t", "Source", "%s", "Destination", "%d", "Protocol", "%p", "Step", "%Cus:tcpphase.step:0:R", "Orig state", "%Cus:tcpphase.orig_state:0:R", "Resp state", "%Cus:tcpphase.resp_state:0:R", "Info", "%i"
EOF
printf 'gui.byte_view_show: FALSE\ngui.packet_diagram_show: FALSE\ngui.geometry_main_upper_pane: 235\ncolumn.width:\n\t%%m, 36,\n\t%%t, 70,\n\t%%s, 85,\n\t%%d, 85,\n\t%%p, 55,\n\t%%Cus:tcpphase.step:0:R, 75,\n\t%%Cus:tcpphase.orig_state:0:R, 112,\n\t%%Cus:tcpphase.resp_state:0:R, 112,\n\t%%i, 600\n' >"$CONF/recent"
printf 'gui.geometry_main_x: 0\ngui.geometry_main_y: 0\ngui.geometry_main_width: %s\ngui.geometry_main_height: %s\ngui.geometry_main_maximized: FALSE\nprivs.warn_if_elevated: FALSE\n' "$WIN_W" "$WIN_H" >"$CONF/recent_common"
chmod -R a+rX "$TMP"
# Whoever unpriv.sh runs Wireshark as must own its home and runtime folder.
mkdir "$TMP/probe" && chmod 1777 "$TMP/probe"
sh "$ROOT/tests/unpriv.sh" touch "$TMP/probe/owner" || die "cannot run unprivileged"
chown -R "$(stat -c %u:%g "$TMP/probe/owner")" "$TMP/home" "$TMP/runtime"
chmod 700 "$TMP/runtime"
wsenv() {
	sh "$ROOT/tests/unpriv.sh" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
		XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$TMP/plugins" \
		QT_QPA_PLATFORM=xcb QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 "$@"
}

# Where the TCP Phase item is among the frame's top-level items (0 = Frame).
TOP=$(wsenv tshark -2 -r "$CAP" -Y "frame.number == $FRAME" -O tcpphase 2>/dev/null |
	awk '/^[^ ]/ { if (index($0, "[TCP Phase") == 1) { print n; exit } n++ }')
[ -n "$TOP" ] || die "frame $FRAME of $CAP has no TCP Phase item"

# ---- X and Wireshark, with the connection table opened by -z ----------------
Xvfb -displayfd 9 -screen 0 "${WIN_W}x$((WIN_H + TABLE_H + 100))x24" -nolisten tcp 9>"$TMP/display" 2>/dev/null &
XVFB_PID=$!
i=0
until [ -s "$TMP/display" ]; do i=$((i + 1)); [ $i -lt 100 ] || die "Xvfb did not start"; sleep 0.1; done
DISPLAY=:$(head -n1 "$TMP/display")
export DISPLAY
( exec sh "$ROOT/tests/unpriv.sh" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
	XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$TMP/plugins" QT_QPA_PLATFORM=xcb \
	QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 \
	wireshark -r "$CAP" -g "$FRAME" -z tcpphase,conns >"$TMP/ws.log" 2>&1 ) &
WS_PID=$!
window() { timeout "$2" xdotool search --sync --onlyvisible --name "$1" 2>/dev/null | head -n1; }
TITLE=$(basename "$CAP" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
WID=$(window "^$TITLE" 60) || true
[ -n "$WID" ] || die "no Wireshark window: $(cat "$TMP/ws.log")"
TID=$(window 'TCP Phase Connections' 30) || true
[ -n "$TID" ] || die "-z tcpphase,conns opened no TCP Phase Connections window: $(cat "$TMP/ws.log")"
settle() {
	prev="" n=0
	while [ $n -lt 40 ]; do
		sleep 0.4
		cur=$(import -window root rgb:- 2>/dev/null | md5sum)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur n=$((n + 1))
	done
}
# No window manager: place the table below the main window ourselves.
xdotool windowmove "$TID" 0 "$WIN_H"
xdotool windowsize "$TID" "$WIN_W" "$TABLE_H"
settle

# ---- 1. packet list, the TCP Phase subtree, the connection table -----------
xdotool windowfocus "$WID"
xdotool mousemove --window "$WID" 300 $((WIN_H - 40)) click 1
sleep 0.3
xdotool key --delay 80 Home
[ "$TOP" -gt 0 ] && xdotool key --delay 80 --repeat "$TOP" Down
xdotool key --delay 80 Right
xdotool mousemove 0 $((WIN_H + TABLE_H + 90))
settle
import -window root "$TMP/table.png"
$CONVERT "$TMP/table.png" -crop "${WIN_W}x$((WIN_H + TABLE_H))+0+0" +repage -strip -colors 255 "PNG8:$PREFIX-table.png"
say "wrote $PREFIX-table.png"

# ---- 2. Statistics > Flow Graph, Flow type "TCP Phase" ----------------------
# The Statistics menu has no keyboard search: walk down its items until one
# opens the Flow window, closing whatever a wrong one opened.
FID="" n=${TP_FLOW_ITEM:-10}
while [ -z "$FID" ] && [ "$n" -le 40 ]; do
	xdotool windowfocus "$WID"
	xdotool key --delay 150 alt+s
	sleep 0.4
	xdotool key --delay 40 --repeat "$n" Down
	xdotool key --delay 100 Return
	FID=$(window '· Flow' 4) || true
	if [ -z "$FID" ]; then
		xdotool key --delay 100 Escape Escape
		for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
			[ "$w" = "$WID" ] || [ "$w" = "$TID" ] || xdotool windowclose "$w" 2>/dev/null || true
		done
		n=$((n + 1))
	fi
done
[ -n "$FID" ] || die "Statistics > Flow Graph not found"
say "Flow Graph is Statistics item $((n + 1))"
xdotool windowmove "$FID" 0 0
xdotool windowsize "$FID" 1240 "$WIN_H"
settle
# The Flow type box sits left of the middle of the bottom row but one; the
# registered flow types are sorted by name and tcpphase comes last.
import -window "$FID" "$TMP/flowwin.png"
FX=${TP_FLOW_BOX_X:-$((1240 * 53 / 100))} FY=${TP_FLOW_BOX_Y:-$((WIN_H - 56))}
xdotool mousemove --window "$FID" "$FX" "$FY" click 1
sleep 0.8
xdotool key --delay 150 End Return
xdotool mousemove 0 $((WIN_H + TABLE_H + 90))
settle
import -window "$FID" "$TMP/flow.png"
$CONVERT "$TMP/flow.png" -strip -colors 255 "PNG8:$PREFIX-flow.png"
say "wrote $PREFIX-flow.png"
