#!/bin/sh
# Render the real Wireshark (Qt) GUI under Xvfb with the tcpphase plugin
# loaded, select one frame, expand its "TCP Phase" subtree in the packet
# details pane and save a screenshot of the window (used in the README).
# With --stats, also open Statistics > TCP Phases (the plugin's stats tree)
# and save the whole screen: the main window with the dialog on its right.
#
# Usage: plugin/screenshot.sh [--stats] [CAPTURE [FRAME [OUTPUT.png]]]
#   defaults: test-captures/lost-final-ack.pcap, frame 12 (the server's
#   retransmitted FIN: lost_final_ack + fin_retransmit), docs/tcpphase-gui.png
# Relative paths are taken from the current directory. Works with whichever
# Wireshark series is installed (4.0 to 4.6, Qt 5 or Qt 6): the plugin is
# taken from $TP_BUILD_DIR/plugins/<that series>/epan/tcpphase.so
# (TP_BUILD_DIR defaults to the repo's build/, built there if missing).
# Run as root (it installs packages) or as a user that already has them.
# As root, Wireshark runs through tests/unpriv.sh: in a user namespace
# (unshare -U), or as nobody where that is refused (inside a chroot).
#
# Exits non-zero if the plugin does not load, the frame has no TCP Phase
# item, the window (or with --stats the dialog) never shows, or the
# screenshot is blank/unchanged.
set -eu

die() { echo "screenshot: error: $*" >&2; exit 1; }
say() { echo "screenshot: $*" >&2; }

STATS=0
while [ $# -gt 0 ]; do
	case $1 in
	--stats) STATS=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (usage: $0 [--stats] [CAPTURE [FRAME [OUTPUT.png]]])" ;;
	*) break ;;
	esac
done
[ $# -le 3 ] || die "too many arguments (usage: $0 [--stats] [CAPTURE [FRAME [OUTPUT.png]]])"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/plugin/gui-session.sh"
CAP=$(realpath -m "${1:-$ROOT/test-captures/lost-final-ack.pcap}")
FRAME=${2:-12}
OUT=$(realpath -m "${3:-$ROOT/docs/tcpphase-gui.png}")
BUILD=$(realpath -m "${TP_BUILD_DIR:-$ROOT/build}")
# Window and screen size: the packet list, plus room for about 30 rows
# of packet details. With --stats the TCP Phases dialog goes to the right
# of the main window, as tall as it.
WIN_W=1100 WIN_H=820 UPPER_PANE=150 DLG_W=800

[ -r "$CAP" ] || die "cannot read capture $CAP"
case $FRAME in '' | *[!0-9]*) die "frame must be a number, got '$FRAME'" ;; esac

# ---- 1. packages -----------------------------------------------------------
# wireshark   the Qt GUI being shown (Debian's wireshark package is the Qt one)
# tshark      checks the plugin loads and reads the frame's tree (-G, -O)
# xvfb        a virtual X server to render into, no display needed
# xdotool     waits for the window, clicks into the details pane, sends keys
# imagemagick import (screenshot of the window) and convert (checks, png)
# fonts-dejavu-core  a font for Qt to draw with (usually there already)
need=""
command -v wireshark >/dev/null 2>&1 || need="$need wireshark"
command -v tshark >/dev/null 2>&1 || need="$need tshark"
command -v Xvfb >/dev/null 2>&1 || need="$need xvfb"
command -v xdotool >/dev/null 2>&1 || need="$need xdotool"
# /usr/bin/convert, not just any convert on PATH: only the real ImageMagick
[ -x /usr/bin/import ] && [ -x /usr/bin/convert ] || need="$need imagemagick"
[ -d /usr/share/fonts/truetype/dejavu ] || need="$need fonts-dejavu-core"
if [ -n "$need" ]; then
	[ "$(id -u)" -eq 0 ] || die "missing packages:$need (run as root or install them)"
	say "installing$need"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! apt-get install -y -qq --no-install-recommends $need >/dev/null; then
		# an interrupted dpkg run or stale package lists: repair, retry once
		dpkg --configure -a >/dev/null 2>&1 || true
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends $need >/dev/null ||
			die "apt-get install$need failed"
	fi
fi
CONVERT=/usr/bin/convert IMPORT=/usr/bin/import

# ---- 2. the plugin ---------------------------------------------------------
# A plugin loads only into the major.minor series it was built for, from
# plugins/<series>/epan/: take the one for the installed Wireshark.
gs_series
PLUGIN=$BUILD/plugins/$SERIES/epan/tcpphase.so
if [ ! -f "$PLUGIN" ]; then
	other=$(ls "$BUILD"/plugins/*/epan/tcpphase.so 2>/dev/null || true)
	[ -z "$other" ] || die "Wireshark $SERIES is installed but $BUILD has the plugin for another series:
$other
(rebuild: rm -rf $BUILD, or set TP_BUILD_DIR to a build for $SERIES)"
	say "building the plugin ($PLUGIN is missing)"
	"$ROOT/setup.sh" --deps-only
	cmake -S "$ROOT" -B "$BUILD" >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" >/dev/null
	[ -f "$PLUGIN" ] || die "the build did not produce $PLUGIN"
fi
say "Wireshark $SERIES, plugin $PLUGIN"

# ---- 3. a throwaway home and profile ---------------------------------------
gs_scratch shot
gs_profile "$PLUGIN" "$CAP"
PLUGIN=$PLUGIN_DIR/$SERIES/epan/tcpphase.so
# Packet list on top, details below, no bytes pane: more room for the tree.
cat >"$CONF/preferences" <<EOF
gui.layout_type: 1
gui.layout_content_1: PLIST
gui.layout_content_2: PDETAILS
gui.layout_content_3: NONE
EOF
cat >"$CONF/recent" <<EOF
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.geometry_main_upper_pane: $UPPER_PANE
column.width:
	%m, 50,
	%t, 80,
	%s, 90,
	%d, 90,
	%p, 70,
	%L, 60,
	%i, 600
EOF
gs_recent_common "$WIN_W" "$WIN_H"
gs_own

# ---- 4. the plugin loads, and the frame has a TCP Phase item ---------------
wsenv tshark -G plugins 2>"$TMP/tshark.err" | grep -q "	$PLUGIN\$" ||
	die "the plugin did not load ($PLUGIN not in 'tshark -G plugins'):
$(cat "$TMP/tshark.err")"
# Two passes, as the GUI sees a clicked frame: verdicts at end of capture.
wsenv tshark -2 -r "$CAP" -Y "frame.number == $FRAME" -O tcpphase \
	>"$TMP/tree.txt" 2>"$TMP/tshark.err" || die "tshark failed: $(cat "$TMP/tshark.err")"
# Keystrokes needed in the details pane, read off the same tree:
#   TOP   = index of the TCP Phase item among the top-level items (0 = Frame)
#   CHILD = its direct children up to and including the Connection item
#           (0 if there is no Connection item)
eval "$(awk '
	/^$/ { if (seen) exit }
	/^[^ ]/ { if (inphase) inphase = 0
		if (!seen && index($0, "[TCP Phase") == 1) { top = n; seen = 1; inphase = 1 }
		n++; next }
	/^    [^ ]/ && inphase && !conn { kids++
		if ($0 ~ /^    \[Connection / && $0 !~ /^    \[Connection (index|uid|outcome)/)
			conn = kids }
	END { printf "FOUND=%d TOP=%d CHILD=%d\n", seen, top, conn }' "$TMP/tree.txt")"
[ "$FOUND" -eq 1 ] || die "frame $FRAME of $CAP has no TCP Phase item (is it a TCP frame? does the capture have $FRAME frames?)"
say "TCP Phase is top-level item $TOP; its Connection item is child $CHILD"
if [ "$STATS" -eq 1 ]; then
	# The stats tree counts segments, so its first row must be non-zero.
	wsenv tshark -2 -q -r "$CAP" -z tcpphase,tree >"$TMP/stats.txt" 2>"$TMP/tshark.err" ||
		die "tshark -z tcpphase,tree failed: $(cat "$TMP/tshark.err")"
	grep -q '^Segments  *[1-9]' "$TMP/stats.txt" ||
		die "the TCP Phases stats tree counts no segments in $CAP:
$(cat "$TMP/stats.txt" "$TMP/tshark.err")"
fi

# ---- 5. X server and Wireshark ---------------------------------------------
SCREEN_W=$((WIN_W + 40))
[ "$STATS" -eq 0 ] || SCREEN_W=$((WIN_W + DLG_W + 40))
gs_xvfb "${SCREEN_W}x$((WIN_H + 40))"
say "starting Wireshark on $CAP, frame $FRAME (display $DISPLAY)"
gs_wireshark -r "$CAP" -g "$FRAME"
gs_settle
$IMPORT -window "$WID" "$TMP/before.png"

# ---- 6. expand the TCP Phase subtree ----------------------------------------
# Click the empty part of the details pane (it then takes keyboard focus),
# Home = first item (Frame), Down TOP times = TCP Phase, Right = expand it.
# Then Down to its Connection item, Right = expand that one level too, and
# Up back to TCP Phase so that it is the selected (highlighted) item.
xdotool mousemove --window "$WID" 300 $((WIN_H - 40)) click 1
sleep 0.3
xdotool key --delay 60 Home
[ "$TOP" -gt 0 ] && xdotool key --delay 60 --repeat "$TOP" Down
xdotool key --delay 60 Right
if [ "$CHILD" -gt 0 ]; then
	xdotool key --delay 60 --repeat "$CHILD" Down
	xdotool key --delay 60 Right
	xdotool key --delay 60 --repeat "$CHILD" Up
fi
xdotool mousemove 0 0 # no hover highlight in the picture
gs_settle

$IMPORT -window "$WID" "$TMP/after.png"
diff=$($CONVERT "$TMP/before.png" "$TMP/after.png" -compose difference -composite \
	-format '%[fx:mean]' info:)
awk -v d="$diff" 'BEGIN { exit !(d > 0.001) }' ||
	die "the details pane did not change after the keystrokes (nothing expanded?); not written"
SHOT=$TMP/after.png

# ---- 7. Statistics > TCP Phases (--stats) ----------------------------------
# Wireshark's Qt GUI takes no -z for stats trees (only tshark does), so go
# through the menu: Alt+S opens Statistics, Up from its first item wraps to
# the last one, Return opens it. Plugins' stats trees come last, sorted by
# name, so TCP Phases is the last item unless another plugin's tree sorts
# after it: then try the items above it one by one, closing what a wrong
# one opened (a submenu, another dialog). The dialog's title names it.
find_dialog() {
	timeout "$1" xdotool search --sync --onlyvisible --name 'TCP Phases' 2>/dev/null | head -n1
}
close_others() {
	xdotool key --delay 100 Escape Escape # a submenu, then the menu
	sleep 0.5
	for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
		[ "$w" = "$WID" ] && continue
		xdotool windowfocus "$w" sleep 0.3 key Escape 2>/dev/null || true
	done
	sleep 0.5
	xdotool windowfocus "$WID" 2>/dev/null || true
}
if [ "$STATS" -eq 1 ]; then
	$IMPORT -window root "$TMP/nodialog.png"
	DWID="" n=1
	while [ $n -le 6 ]; do
		xdotool key --delay 100 alt+s
		sleep 0.5
		xdotool key --delay 80 --repeat "$n" Up
		xdotool key --delay 80 Return
		DWID=$(find_dialog 8) || true
		[ -n "$DWID" ] && break
		say "Statistics item $n from the bottom is not TCP Phases; trying the one above"
		close_others
		n=$((n + 1))
	done
	[ -n "$DWID" ] || die "Statistics > TCP Phases did not open (not among the last 6 items of the Statistics menu?):
$(cat "$TMP/wireshark.log")"
	# No window manager: place it ourselves, right of the main window.
	xdotool windowmove --sync "$DWID" "$WIN_W" 0 2>/dev/null || xdotool windowmove "$DWID" "$WIN_W" 0
	xdotool windowsize --sync "$DWID" "$DLG_W" "$WIN_H" 2>/dev/null || xdotool windowsize "$DWID" "$DLG_W" "$WIN_H"
	xdotool mousemove 0 0
	gs_settle
	say "the TCP Phases dialog is open: $(xdotool getwindowname "$DWID")"
	$IMPORT -window root "$TMP/root.png"
	# Both windows, not the 40 pixels of bare screen around them.
	$CONVERT "$TMP/root.png" -crop "$((WIN_W + DLG_W))x${WIN_H}+0+0" +repage "$TMP/both.png"
	$CONVERT "$TMP/nodialog.png" -crop "$((WIN_W + DLG_W))x${WIN_H}+0+0" +repage "$TMP/nodialog-c.png"
	diff=$($CONVERT "$TMP/nodialog-c.png" "$TMP/both.png" -compose difference -composite \
		-format '%[fx:mean]' info:)
	awk -v d="$diff" 'BEGIN { exit !(d > 0.01) }' ||
		die "the screen did not change when the TCP Phases dialog opened; not written"
	SHOT=$TMP/both.png
fi

# ---- 8. screenshot -----------------------------------------------------------
# 8-bit palette PNG: the GUI has few colours, so this keeps it small.
$CONVERT "$SHOT" -strip -colors 255 "PNG8:$TMP/out.png"

sd=$($CONVERT "$TMP/out.png" -format '%[fx:standard_deviation]' info:)
awk -v s="$sd" 'BEGIN { exit !(s > 0.02) }' || die "the screenshot is blank (std dev $sd); not written"
mkdir -p "$(dirname "$OUT")"
cp "$TMP/out.png" "$OUT"
say "wrote $OUT ($(wc -c <"$OUT") bytes, $($CONVERT "$OUT" -format '%wx%h' info:))"
