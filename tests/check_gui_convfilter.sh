#!/bin/sh
# Manual check (not in ctest: it needs the Qt GUI, Xvfb and xdotool, which
# CI has not) of the plugin's conversation filter in the real Wireshark GUI,
# on the selected frame's connection:
#   filter mode (default): Analyze > Conversation Filter > TCP Phase applies
#     the display filter tcpphase.uid == "<uid>", and that filter selects
#     the frames the CLI gives that connection;
#   --colorize: the packet list's context menu > Colorize Conversation >
#     TCP Phase > Color 1 gives exactly those frames' rows Color 1's
#     background, and no other row.
#
# Usage: tests/check_gui_convfilter.sh [--colorize] [CAPTURE [FRAME]]
#   defaults: test-captures/port-reuse.pcap, frame 14 (in its second
#   connection on the same 4-tuple, which TCP's conversation filter would
#   merge with the first).
# Needs what plugin/screenshot.sh installs and the plugin (and the CLI,
# for the comparison with its records) built for the installed series in
# $TP_BUILD_DIR (default build/). Wireshark runs through tests/unpriv.sh
# (see plugin/gui-session.sh).
#
# Menus are walked by keyboard, as their items are found by position:
# Alt+A opens Analyze, Down TP_CONV_ITEM times reaches Conversation Filter
# (the enabled items above it differ by series, see below), Right opens it,
# Up wraps to its last item, which is TCP Phase (plugins register after
# Wireshark's own dissectors). Ctrl+Q quits, so that Wireshark writes the
# filter it applied to the profile's recent_common (recent.display_filter,
# newest first), which is compared.
# View > Colorize Conversation > Color 1 is not the way to TCP Phase: in
# 4.0 (ui/qt, epan/conversation_filter.c) it takes the first of tcp, udp,
# ip, ipv6, eth with a filter for the packet, i.e. TCP's. Only the context menu has a submenu per conversation filter:
# the Menu key opens it, Down TP_COLOR_ITEM times reaches Colorize
# Conversation, Right, Up (TCP Phase, the last), Right, and 1 (Color &1).
# TP_KEEP=1 keeps the scratch folder, with screenshots of each step, in
# /tmp/tcpphase-conv-kept.
set -eu

die() { echo "check_gui_convfilter: FAIL $*" >&2; exit 1; }
say() { echo "check_gui_convfilter: $*" >&2; }

MODE=filter
case ${1:-} in --colorize) MODE=colorize; shift ;; -*) die "unknown option $1" ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/plugin/gui-session.sh"
CAP=$(realpath -m "${1:-$ROOT/test-captures/port-reuse.pcap}")
FRAME=${2:-14}
BUILD=$(realpath -m "${TP_BUILD_DIR:-$ROOT/build}")
gs_series
PLUGIN=$BUILD/plugins/$SERIES/epan/tcpphase.so
[ -f "$PLUGIN" ] || die "no plugin for Wireshark $SERIES at $PLUGIN (build it first)"
[ -r "$CAP" ] || die "cannot read capture $CAP"
gs_need wireshark tshark Xvfb xdotool import convert
# Analyze opens with its first item active, and Down skips disabled items:
# with a packet selected and no field, 4.0 and 4.6 alike have Display
# Filters, Display Filter Macros, Display Filter Expression, (Apply as
# Column is disabled), Apply as Filter and Prepare as Filter above it.
ITEM=${TP_CONV_ITEM:-5}
# The context menu opens with no item active: Mark, Ignore, Time Reference,
# Time Shift, Packet Comments, Edit Resolved Name, Apply as Filter, Prepare
# as Filter, Conversation Filter come before Colorize Conversation.
CITEM=${TP_COLOR_ITEM:-10}
# Color 1's background: Wireshark's default gui.colorized_frame.bg
# (epan/prefs.c, "ffc0c0,ffc0ff,..."); a private profile keeps it.
COLOR1=${TP_COLOR1:-ffc0c0}
W=1200 H=700

gs_scratch conv
gs_profile "$PLUGIN" "$CAP"
gs_recent_common "$W" "$H"
# Only the packet list, so that every row of a small capture is on screen.
[ "$MODE" = filter ] ||
	printf 'gui.layout_type: 1\ngui.layout_content_1: PLIST\ngui.layout_content_2: NONE\ngui.layout_content_3: NONE\n' >"$CONF/preferences"
gs_own

# ---- the connection: the frame's uid and its frames, as tshark shows them ---
UID_=$(wsenv tshark -2 -r "$CAP" -Y "frame.number == $FRAME" -T fields -e tcpphase.uid 2>/dev/null)
case $UID_ in C?*) ;; *) die "frame $FRAME of $CAP has no tcpphase.uid ('$UID_'): not loaded, or no TCP?" ;; esac
WANT="tcpphase.uid == \"$UID_\""
SEL=$(wsenv tshark -2 -r "$CAP" -Y "$WANT" -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
say "Wireshark $SERIES, frame $FRAME is in connection $UID_"

# ---- the GUI -----------------------------------------------------------------
gs_xvfb "$((W + 40))x$((H + 60))"
gs_wireshark -r "$CAP" -g "$FRAME"
shot() { import -window root "$TMP/$1.png" 2>/dev/null || true; }
gs_settle
xdotool windowfocus "$WID" 2>/dev/null || true
# No hover highlight on a row.
xdotool mousemove $((W + 30)) $((H + 50))
shot 0-loaded

if [ "$MODE" = filter ]; then
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
	gs_settle
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

	# ---- what it applied ----------------------------------------------------
	GOT=$(sed -n 's/^recent\.display_filter: //p' "$CONF/recent_common" | head -n1)
	[ "$GOT" = "$WANT" ] || die "the applied filter is '$GOT', want '$WANT' (TP_CONV_ITEM=$ITEM; TP_KEEP=1 keeps screenshots)"
	say "Analyze > Conversation Filter > TCP Phase applied: $GOT"
	[ -n "$SEL" ] || die "tshark -Y '$GOT' selects no frame"
else
	# Each row's background: the commonest colour along its middle line,
	# which text and the focus frame do not cover.
	rowcolors() { # IMAGE: one hex colour per row 1..NROWS
		r=1
		while [ $r -le "$NROWS" ]; do
			convert "$1" -crop "$((W - 40))x1+10+$((Y0 + (r - 1) * RH + RH / 2))" +repage \
				-format %c histogram:info:- |
				sort -rn | sed -n '1s/.*#\([0-9A-Fa-f]\{6\}\).*/\1/p' | tr 'A-F' 'a-f'
			r=$((r + 1))
		done
	}
	NROWS=$(wsenv tshark -r "$CAP" -T fields -e frame.number 2>/dev/null | wc -l)

	# Keyboard focus to the packet list: a click into it (on a row, or
	# below the last one), then Home selects frame 1.
	xdotool mousemove --window "$WID" $((W / 2)) $((H / 2)) click 1
	xdotool mousemove $((W + 30)) $((H + 50))
	# Where the rows are: select frame 1, then frame 2; the pixels that
	# change in a column of the packet list are exactly those two rows.
	xdotool key --delay 150 Home
	gs_settle
	shot 1-row1
	xdotool key --delay 150 Down
	gs_settle
	shot 2-row2
	X=$((W / 2))
	column() {
		convert "$1" -crop "1x$H+$X+0" +repage txt:- |
			awk 'NR > 1 { split($1, c, /[,:]/); print c[2], $3 }'
	}
	column "$TMP/1-row1.png" >"$TMP/col1"
	column "$TMP/2-row2.png" >"$TMP/col2"
	eval "$(paste -d' ' "$TMP/col1" "$TMP/col2" | awk '
		$2 != $4 { if (first == "") first = $1; if (last == "" || $1 == last + 1) last = $1 }
		END { if (first != "") print "Y0=" first " RH=" int((last - first + 1) / 2) }')"
	[ -n "${Y0:-}" ] ||
		die "selecting frames 1 and 2 changed nothing in the packet list (no keyboard focus? TP_KEEP=1 keeps screenshots)"
	[ "$RH" -ge 8 ] && [ $((Y0 + NROWS * RH)) -le "$H" ] ||
		die "rows of $RH pixels from y=$Y0 do not fit $NROWS frames in the window"
	say "$NROWS rows of $RH pixels from y=$Y0"

	# Back to the frame, and colour its connection.
	xdotool key --delay 150 Home
	[ "$FRAME" -gt 1 ] && xdotool key --delay 60 --repeat $((FRAME - 1)) Down
	gs_settle
	shot 3-selected
	xdotool key --delay 150 Menu
	sleep 0.6
	xdotool key --delay 100 --repeat "$CITEM" Down
	sleep 0.3
	shot 4-context
	xdotool key --delay 150 Right
	sleep 0.5
	xdotool key --delay 150 Up
	sleep 0.3
	shot 5-colorize
	xdotool key --delay 150 Right
	sleep 0.5
	shot 6-tcpphase
	xdotool key --delay 150 1
	gs_settle
	shot 7-colored
	# Each row unselected: frame 1 selected, then frame 2.
	xdotool key --delay 150 Home
	gs_settle
	shot 8-row1
	xdotool key --delay 150 Down
	gs_settle
	shot 9-row2

	rowcolors "$TMP/2-row2.png" >"$TMP/before2"
	rowcolors "$TMP/1-row1.png" >"$TMP/before1"
	rowcolors "$TMP/9-row2.png" >"$TMP/after2"
	rowcolors "$TMP/8-row1.png" >"$TMP/after1"
	for f in before after; do
		# Row 1 is selected in one, row 2 in the other: take each from where it is not.
		{ sed -n 1p "$TMP/${f}2"; sed -n 2p "$TMP/${f}1"; sed -n '3,$p' "$TMP/${f}2"; } >"$TMP/$f"
	done
	grep -qx "$COLOR1" "$TMP/before" && die "rows have Color 1 ($COLOR1) before colourising: $(grep -nx "$COLOR1" "$TMP/before" | cut -d: -f1 | tr '\n' ' ')"
	GOTROWS=$(grep -nx "$COLOR1" "$TMP/after" | cut -d: -f1 | tr '\n' ' ') || true
	say "rows with Color 1 ($COLOR1): ${GOTROWS:-none}"
	[ "$GOTROWS" = "$SEL" ] ||
		die "Colorize Conversation > TCP Phase > Color 1 coloured rows '$GOTROWS', want the frames of $UID_: '$SEL' (row colours: $(tr '\n' ' ' <"$TMP/after"); TP_COLOR_ITEM=$CITEM; TP_KEEP=1 keeps screenshots)"
	say "Colorize Conversation > TCP Phase > Color 1 coloured exactly the rows of $UID_"
fi

# ---- the connection's frames, per the CLI -----------------------------------
if [ -x "$BUILD/tcpphase" ]; then
	cli=$("$BUILD/tcpphase" -r "$CAP" -F json --segments --no-summary --wireshark "$SERIES" |
		grep "\"type\":\"segment\".*\"uid\":\"$UID_\"" | sed 's/.*"frame":\([0-9]*\),.*/\1/' | tr '\n' ' ')
	[ -n "$SEL" ] && [ "$SEL" = "$cli" ] || die "tshark -Y '$WANT' selects frames '$SEL', the CLI's record of $UID_ has '$cli'"
	say "they are the CLI's frames of $UID_: $SEL"
else
	say "no CLI at $BUILD/tcpphase: the frames were not compared with its records"
fi
say "PASS"
