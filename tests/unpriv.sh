#!/bin/sh
# Run a command the way Wireshark honours WIRESHARK_PLUGIN_DIR and ~/.local:
# started as root it ignores both. As root, run it in a user namespace
# (unshare -U), or, where that is refused (inside a chroot, as in the
# Debian 13 and unstable roots of tests/releases.sh), as nobody; then the
# plugin folder, the captures and HOME must be readable by everyone.
# usage: unpriv.sh COMMAND [ARG...]
[ "$(id -u)" -ne 0 ] && exec "$@"
unshare -U true 2>/dev/null && exec unshare -U "$@"
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
