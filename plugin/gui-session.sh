# shellcheck shell=sh
# One Wireshark GUI session under Xvfb with the tcpphase plugin and a
# private profile, shared by plugin/screenshot.sh, plugin/screenshot-views.sh
# and tests/check_gui_convfilter.sh. Sourced (POSIX sh), not run. The caller
# sets ROOT (the repository) and defines die and say first.
#
#   gs_series          SERIES, the installed Wireshark's major.minor: a
#                      plugin loads only into the series it was built for,
#                      from plugins/SERIES/epan/.
#   gs_need PROG...    dies naming the missing programs (plugin/screenshot.sh
#                      installs them).
#   gs_scratch NAME    TMP, a scratch folder /tmp/tcpphase-NAME.XXXXXX, and
#                      the traps that stop Xvfb and Wireshark and remove it
#                      on any exit; TP_KEEP=1 first copies it to
#                      /tmp/tcpphase-NAME-kept (profile, logs, screenshots).
#   gs_profile PLUGIN CAPTURE
#                      copies of both where everyone can read them (see
#                      below), PLUGIN_DIR for WIRESHARK_PLUGIN_DIR, CAP the
#                      copied capture, CONF the empty profile folder; the
#                      caller then writes its preferences, recent and
#                      recent_common there.
#   gs_recent_common W H   a recent_common placing the main window at 0,0,
#                      W x H, unmaximized (no window manager will), and no
#                      warning dialog about running elevated.
#   gs_own             hands the home and runtime folder to the user
#                      Wireshark will run as; call it after writing CONF.
#   wsenv CMD...       runs CMD (tshark, wireshark) as that user, with the
#                      private home, profile and plugin folder.
#   gs_xvfb WxH        starts Xvfb on a free display, exports DISPLAY.
#   gs_wireshark ARG...  starts wireshark ARG... in the background (WS_PID,
#                      log in $TMP/wireshark.log) and waits for its main
#                      window (WID), whose title is the capture's name.
#   gs_window REGEX SECONDS   the id of a visible window by title, or empty.
#   gs_settle          waits until the screen stops changing.
#
# Why tests/unpriv.sh: Wireshark started as root (as in the chroots and on
# CI machines) ignores WIRESHARK_PLUGIN_DIR and ~/.local, so the plugin
# would not load. unpriv.sh runs it in a user namespace, or as nobody where
# that is refused (inside a chroot): hence the plugin and capture are copied
# into folders everyone can read, and the home and XDG_RUNTIME_DIR (which Qt
# wants owned by us and 0700) are given to whoever that turns out to be.

gs_series() {
	SERIES=$(tshark --version 2>/dev/null | sed -n '1s/^[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\)\..*/\1/p')
	[ -n "$SERIES" ] || die "cannot tell the Wireshark version from 'tshark --version'"
}

gs_need() {
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || die "$p is missing (plugin/screenshot.sh installs it)"
	done
}

gs_scratch() {
	GS_NAME=$1
	TMP=$(mktemp -d "/tmp/tcpphase-$GS_NAME.XXXXXX")
	XVFB_PID="" WS_PID=""
	trap gs_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

gs_cleanup() {
	set +e
	for pid in $WS_PID $XVFB_PID; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}

gs_on_exit() {
	rc=$?
	if [ -n "${TP_KEEP:-}" ]; then
		rm -rf "/tmp/tcpphase-$GS_NAME-kept"
		cp -r "$TMP" "/tmp/tcpphase-$GS_NAME-kept"
	fi
	gs_cleanup
	exit "$rc"
}

gs_profile() {
	chmod 755 "$TMP"
	PLUGIN_DIR=$TMP/plugins
	mkdir -p "$PLUGIN_DIR/$SERIES/epan" "$TMP/cap" "$TMP/runtime"
	cp "$1" "$PLUGIN_DIR/$SERIES/epan/tcpphase.so"
	cp "$2" "$TMP/cap/"
	CAP=$TMP/cap/$(basename "$2")
	CONF=$TMP/home/.config/wireshark
	mkdir -p "$CONF"
}

gs_recent_common() {
	printf 'gui.geometry_main_x: 0\ngui.geometry_main_y: 0\ngui.geometry_main_width: %s\ngui.geometry_main_height: %s\ngui.geometry_main_maximized: FALSE\nprivs.warn_if_elevated: FALSE\n' \
		"$1" "$2" >"$CONF/recent_common"
}

gs_own() {
	chmod -R a+rX "$TMP"
	# Ask it to create a file, to learn whom it runs as.
	mkdir "$TMP/probe"
	chmod 1777 "$TMP/probe"
	sh "$ROOT/tests/unpriv.sh" touch "$TMP/probe/owner" 2>"$TMP/unpriv.err" ||
		die "cannot run programs unprivileged with tests/unpriv.sh: $(cat "$TMP/unpriv.err")"
	chown -R "$(stat -c %u:%g "$TMP/probe/owner")" "$TMP/home" "$TMP/runtime"
	chmod 700 "$TMP/runtime"
}

# QT_QPA_PLATFORM: Qt 6 would pick Wayland if it found a compositor.
# unpriv.sh, setpriv, unshare and env all exec, so a (sub)shell that calls
# this becomes the program: in the background, $! is Wireshark itself.
gs_exec() {
	exec sh "$ROOT/tests/unpriv.sh" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
		XDG_RUNTIME_DIR="$TMP/runtime" WIRESHARK_PLUGIN_DIR="$PLUGIN_DIR" \
		QT_QPA_PLATFORM=xcb QT_X11_NO_MITSHM=1 QT_ACCESSIBILITY=0 NO_AT_BRIDGE=1 "$@"
}
wsenv() { (gs_exec "$@"); }

gs_xvfb() {
	# -displayfd picks a free display number and writes it once it is up.
	Xvfb -displayfd 9 -screen 0 "${1}x24" -nolisten tcp 9>"$TMP/display" 2>"$TMP/xvfb.log" &
	XVFB_PID=$!
	i=0
	until [ -s "$TMP/display" ]; do
		kill -0 "$XVFB_PID" 2>/dev/null || die "Xvfb failed: $(cat "$TMP/xvfb.log")"
		i=$((i + 1))
		[ $i -lt 100 ] || die "Xvfb did not start in 10 s"
		sleep 0.1
	done
	DISPLAY=:$(head -n1 "$TMP/display")
	export DISPLAY
}

gs_window() {
	timeout "$2" xdotool search --sync --onlyvisible --name "$1" 2>/dev/null | head -n1
}

gs_wireshark() {
	(gs_exec wireshark "$@" >"$TMP/wireshark.log" 2>&1) &
	WS_PID=$!
	# The title becomes the file name once the capture is read.
	WID=$(gs_window "^$(basename "$CAP" | sed 's/[][\\.^$*+?(){}|]/\\&/g')" 60) || true
	[ -n "$WID" ] || die "no Wireshark window after 60 s:
$(cat "$TMP/wireshark.log")"
}

# Two screenshots in a row the same: loaded, redrawn, menus open.
gs_settle() {
	gs_prev="" gs_n=0
	while [ $gs_n -lt 40 ]; do
		sleep 0.4
		gs_cur=$(import -window root rgb:- 2>/dev/null | md5sum)
		[ "$gs_cur" = "$gs_prev" ] && return 0
		gs_prev=$gs_cur gs_n=$((gs_n + 1))
	done
	say "warning: the screen did not settle in 16 s"
}
