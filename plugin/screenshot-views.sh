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
. "$ROOT/plugin/gui-session.sh"
CAP=$(realpath -m "${1:-$ROOT/test-captures/lost-final-ack.pcap}")
FRAME=${2:-11}
gs_series
PREFIX=$(realpath -m "${3:-$ROOT/docs/gui-$SERIES}")
BUILD=$(realpath -m "${TP_BUILD_DIR:-$ROOT/build}")
PLUGIN=$BUILD/plugins/$SERIES/epan/tcpphase.so
[ -f "$PLUGIN" ] || die "no plugin for Wireshark $SERIES at $PLUGIN (build it first)"
gs_need wireshark tshark Xvfb xdotool import convert
CONVERT=$(command -v convert)
WIN_W=1500 WIN_H=720 TABLE_H=170

gs_scratch views

# ---- a profile: the shipped colouring rules above Wireshark's, the columns --
gs_profile "$PLUGIN" "$CAP"
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
gs_recent_common "$WIN_W" "$WIN_H"
gs_own

# Where the TCP Phase item is among the frame's top-level items (0 = Frame).
TOP=$(wsenv tshark -2 -r "$CAP" -Y "frame.number == $FRAME" -O tcpphase 2>/dev/null |
	awk '/^[^ ]/ { if (index($0, "[TCP Phase") == 1) { print n; exit } n++ }')
[ -n "$TOP" ] || die "frame $FRAME of $CAP has no TCP Phase item"

# ---- X and Wireshark, with the connection table opened by -z ----------------
gs_xvfb "${WIN_W}x$((WIN_H + TABLE_H + 100))"
gs_wireshark -r "$CAP" -g "$FRAME" -z tcpphase,conns
TID=$(gs_window 'TCP Phase Connections' 30) || true
[ -n "$TID" ] || die "-z tcpphase,conns opened no TCP Phase Connections window: $(cat "$TMP/wireshark.log")"
# No window manager: place the table below the main window ourselves.
xdotool windowmove "$TID" 0 "$WIN_H"
xdotool windowsize "$TID" "$WIN_W" "$TABLE_H"
gs_settle

# ---- 1. packet list, the TCP Phase subtree, the connection table -----------
xdotool windowfocus "$WID"
xdotool mousemove --window "$WID" 300 $((WIN_H - 40)) click 1
sleep 0.3
xdotool key --delay 80 Home
[ "$TOP" -gt 0 ] && xdotool key --delay 80 --repeat "$TOP" Down
xdotool key --delay 80 Right
xdotool mousemove 0 $((WIN_H + TABLE_H + 90))
gs_settle
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
	FID=$(gs_window '· Flow' 4) || true
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
gs_settle
# The Flow type box sits left of the middle of the bottom row but one; the
# registered flow types are sorted by name and tcpphase comes last.
import -window "$FID" "$TMP/flowwin.png"
FX=${TP_FLOW_BOX_X:-$((1240 * 53 / 100))} FY=${TP_FLOW_BOX_Y:-$((WIN_H - 56))}
xdotool mousemove --window "$FID" "$FX" "$FY" click 1
sleep 0.8
xdotool key --delay 150 End Return
xdotool mousemove 0 $((WIN_H + TABLE_H + 90))
gs_settle
import -window "$FID" "$TMP/flow.png"
$CONVERT "$TMP/flow.png" -strip -colors 255 "PNG8:$PREFIX-flow.png"
say "wrote $PREFIX-flow.png"
