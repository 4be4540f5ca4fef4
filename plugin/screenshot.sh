#!/bin/sh
# Render the real Wireshark (Qt) GUI under Xvfb with the tcpphase plugin
# loaded, select one frame, expand its "TCP Phase" subtree in the packet
# details pane and save a screenshot of the window (used in the README).
#
# Usage: plugin/screenshot.sh [CAPTURE [FRAME [OUTPUT.png]]]
#   defaults: test-captures/lost-final-ack.pcap, frame 12 (the server's
#   retransmitted FIN: lost_final_ack + fin_retransmit), docs/tcpphase-gui.png
# Relative paths are taken from the current directory. Run as root (it
# installs packages) or as a user that already has them; needs user
# namespaces (unshare -U) when run as root.
#
# Exits non-zero if the plugin does not load, the frame has no TCP Phase
# item, the window never shows, or the screenshot is blank/unchanged.
set -eu

die() { echo "screenshot: error: $*" >&2; exit 1; }
say() { echo "screenshot: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAP=$(realpath -m "${1:-$ROOT/test-captures/lost-final-ack.pcap}")
FRAME=${2:-12}
OUT=$(realpath -m "${3:-$ROOT/docs/tcpphase-gui.png}")
PLUGIN_DIR=$ROOT/build/plugins
PLUGIN=$PLUGIN_DIR/4.0/epan/tcpphase.so
# Window and screen size: the packet list, plus room for about 30 rows
# of packet details.
WIN_W=1100 WIN_H=820 UPPER_PANE=150

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
if [ ! -f "$PLUGIN" ]; then
	say "building the plugin ($PLUGIN is missing)"
	"$ROOT/setup.sh" --deps-only
	cmake -S "$ROOT" -B "$ROOT/build" >/dev/null
	cmake --build "$ROOT/build" -j"$(nproc)" >/dev/null
	[ -f "$PLUGIN" ] || die "the build did not produce $PLUGIN"
fi

# ---- 3. a throwaway home and profile ---------------------------------------
TMP=$(mktemp -d /tmp/tcpphase-shot.XXXXXX)
XVFB_PID="" WS_PID=""
cleanup() {
	set +e
	for pid in $WS_PID $XVFB_PID; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
on_exit() {
	rc=$?
	cleanup
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CONF=$TMP/home/.config/wireshark
mkdir -p "$CONF" "$TMP/runtime"
chmod 700 "$TMP/runtime" # Qt wants XDG_RUNTIME_DIR owned by us and 0700
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
cat >"$CONF/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $WIN_W
gui.geometry_main_height: $WIN_H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOF

# Wireshark started as root ignores WIRESHARK_PLUGIN_DIR (special privileges);
# in a user namespace it runs as an unmapped user and honours it. unshare and
# env exec the program. As a normal user the namespace is not needed.
NS="unshare -U"
[ "$(id -u)" -eq 0 ] || NS=""
wsenv() {
	# shellcheck disable=SC2086
	$NS env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
		XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$PLUGIN_DIR" \
		QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 "$@"
}
# The same, replacing the (background sub)shell, so that $! is the program.
wsexec() {
	# shellcheck disable=SC2086
	exec $NS env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
		XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$PLUGIN_DIR" \
		QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 "$@"
}

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

# ---- 5. X server and Wireshark ---------------------------------------------
# -displayfd picks a free display number and writes it once the server is up.
Xvfb -displayfd 9 -screen 0 "$((WIN_W + 40))x$((WIN_H + 40))x24" -nolisten tcp \
	9>"$TMP/display" 2>"$TMP/xvfb.log" &
XVFB_PID=$!
i=0
until [ -s "$TMP/display" ]; do
	kill -0 "$XVFB_PID" 2>/dev/null || die "Xvfb failed: $(cat "$TMP/xvfb.log")"
	i=$((i + 1)); [ $i -lt 100 ] || die "Xvfb did not start in 10 s"
	sleep 0.1
done
DISPLAY=:$(head -n1 "$TMP/display")
export DISPLAY

say "starting Wireshark on $CAP, frame $FRAME (display $DISPLAY)"
wsexec wireshark -r "$CAP" -g "$FRAME" >"$TMP/wireshark.log" 2>&1 &
WS_PID=$!
# The title becomes the file name once the capture is read.
TITLE=$(basename "$CAP" | sed 's/[][\\.^$*+?(){}|]/\\&/g')
WID=$(timeout 60 xdotool search --sync --onlyvisible --name "^$TITLE" 2>/dev/null | head -n1) || true
[ -n "$WID" ] || die "no Wireshark window after 60 s:
$(cat "$TMP/wireshark.log")"

# Wait until two screenshots in a row are the same (loaded, frame selected).
settle() {
	prev="" n=0
	while [ $n -lt 40 ]; do
		sleep 0.3
		cur=$($IMPORT -window root rgb:- 2>/dev/null | md5sum)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur n=$((n + 1))
	done
	say "warning: the window did not settle in 12 s"
}
settle
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
settle

# ---- 7. screenshot -----------------------------------------------------------
$IMPORT -window "$WID" "$TMP/after.png"
# 8-bit palette PNG: the GUI has few colours, so this keeps it small.
$CONVERT "$TMP/after.png" -strip -colors 255 "PNG8:$TMP/out.png"

sd=$($CONVERT "$TMP/out.png" -format '%[fx:standard_deviation]' info:)
awk -v s="$sd" 'BEGIN { exit !(s > 0.02) }' || die "the screenshot is blank (std dev $sd); not written"
diff=$($CONVERT "$TMP/before.png" "$TMP/after.png" -compose difference -composite \
	-format '%[fx:mean]' info:)
awk -v d="$diff" 'BEGIN { exit !(d > 0.001) }' ||
	die "the details pane did not change after the keystrokes (nothing expanded?); not written"
mkdir -p "$(dirname "$OUT")"
cp "$TMP/out.png" "$OUT"
say "wrote $OUT ($(wc -c <"$OUT") bytes, $($CONVERT "$OUT" -format '%wx%h' info:))"
