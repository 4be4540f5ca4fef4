#!/bin/bash
# Record the real Linux TCP captures of test-captures/ and write expected.tsv.
#
# usage: sudo test-captures/make-captures.sh [SCENARIO...]
#
# Every scenario runs in two fresh network namespaces, tpc-cli (10.99.0.1,
# fd00:99::1 on veth-c) and tpc-srv (10.99.0.2, fd00:99::2 on veth-s), joined
# by a veth pair; the host's own interfaces are never touched. Client and
# server are ordinary kernel sockets (scenarios/tpc.py); behaviours are
# provoked with nftables rules, a tbf qdisc, SO_LINGER, shutdown() and
# per-namespace sysctls; scapy only builds the spoofed SYNs. tcpdump records
# on one end of the veth pair. Each capture is then checked with tshark
# (scenarios/verify.py) and retried (up to 3 times) if the kernel did not do
# what the scenario needs; expected.tsv comes from the scenarios, checked
# against the captures, never from tcpphase. Finally demo.pcapng merges a few.
#
# Without arguments every scenario is recorded; with names, only those (the
# others' captures stay as they are). Needs: iproute2, nftables, tcpdump,
# tshark, mergecap and editcap (wireshark-common), ethtool, python3-scapy.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE
PY=${PY:-/usr/bin/python3}   # Debian's python3, which has python3-scapy
TPC=("$PY" "$HERE/scenarios/tpc.py")
VERIFY=("$PY" "$HERE/scenarios/verify.py")
# TPC_NS names the namespace pair (tpc-cli, tpc-srv by default), so that two
# recordings can run at once without tearing down each other's namespaces.
CLI=${TPC_NS:-tpc}-cli
SRV=${TPC_NS:-tpc}-srv
C4=10.99.0.1 S4=10.99.0.2 C6=fd00:99::1 S6=fd00:99::2

ALL=(close-client-first close-server-first three-segment simultaneous-close half-close
     reset-by-client reset-by-server refused syn-unanswered half-open lost-final-ack
     final-ack-unseen capture-cut ipv6 port-reuse syn-flood tfo stale-reconnect
     lost-handshake-ack-cli lost-handshake-ack-srv peer-crash backlog-full
     fragmented-syn lost-final-ack-srv lost-final-ack-nots lost-first-fin syn-retries-long
     lost-final-ack-nots-cli spurious-rto)
DEMO=(close-client-first close-server-first three-segment half-open refused reset-by-client lost-final-ack)

[ "$(id -u)" -eq 0 ] || { echo "make-captures: run as root (sudo $0)" >&2; exit 1; }
for t in ip nft tc tcpdump tshark mergecap editcap ethtool "$PY"; do
	command -v "$t" >/dev/null || { echo "make-captures: $t is missing" >&2; exit 1; }
done
"$PY" -c 'import scapy.all' 2>/dev/null || { echo "make-captures: $PY has no scapy (apt-get install python3-scapy)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tpc-captures.XXXXXX)

ns_down() {
	ip netns pids $CLI >/dev/null 2>&1 && for p in $(ip netns pids $CLI); do kill "$p" 2>/dev/null || true; done
	ip netns pids $SRV >/dev/null 2>&1 && for p in $(ip netns pids $SRV); do kill "$p" 2>/dev/null || true; done
	ip netns del $CLI 2>/dev/null || true
	ip netns del $SRV 2>/dev/null || true
}

cleanup() {
	local rc=$?
	# our own background jobs still running (tcpdump, servers), then
	# whatever is left inside our two namespaces
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	ns_down
	wait 2>/dev/null || true
	rm -rf "$WORK"
	[ $rc -eq 0 ] || echo "make-captures: failed (exit $rc); namespaces removed" >&2
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_cli() { ip netns exec $CLI "$@"; }
in_srv() { ip netns exec $SRV "$@"; }
# Run in the foreground, but so that a signal reaches the trap at once (bash
# runs traps only between commands; `wait` is interruptible).
fg() { "$@" & wait $!; }

# Fresh namespaces and veth pair, offloads off (correct checksums in the
# capture, no GSO super-segments), default sysctls plus short retry trains.
ns_up() {
	ns_down
	ip netns add $CLI
	ip netns add $SRV
	ip -n $CLI link set lo up
	ip -n $SRV link set lo up
	ip -n $CLI link add veth-c type veth peer name veth-s netns $SRV
	ip -n $CLI addr add $C4/24 dev veth-c
	ip -n $SRV addr add $S4/24 dev veth-s
	ip -n $CLI addr add $C6/64 dev veth-c nodad
	ip -n $SRV addr add $S6/64 dev veth-s nodad
	in_cli ethtool -K veth-c tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	in_srv ethtool -K veth-s tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n $CLI link set veth-c up
	ip -n $SRV link set veth-s up
	in_cli sysctl -qw net.ipv4.tcp_syn_retries=2 net.ipv4.ip_forward=0
	in_srv sysctl -qw net.ipv4.tcp_synack_retries=2 net.ipv4.tcp_syncookies=1 net.ipv4.ip_forward=0
	# a table per namespace for the scenarios' drop rules; the client drops the
	# UDP fillers of the simultaneous close (no ICMP back)
	in_cli nft -f - <<-EOF
	table inet tpc {
		chain in { type filter hook input priority 0; policy accept; udp dport 9 drop; }
	}
	EOF
	in_srv nft -f - <<-EOF
	table inet tpc {
		chain in { type filter hook input priority 0; policy accept; }
	}
	EOF
	# neighbours known up front: no ARP/ND delay inside a scenario
	in_cli ping -c1 -W1 $S4 >/dev/null 2>&1 || true
	in_cli ping -c1 -W1 $S6 >/dev/null 2>&1 || true
}

CAP_PID=""
cap_start() {   # NS IFACE
	local ns=$1 ifc=$2
	rm -f "$WORK/cap.pcap" "$WORK/cap.err"
	ip netns exec "$ns" tcpdump -Z root -n -U --immediate-mode -i "$ifc" -w "$WORK/cap.pcap" tcp 2>"$WORK/cap.err" &
	CAP_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$WORK/cap.err" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "make-captures: tcpdump did not start: $(cat "$WORK/cap.err")" >&2
	return 1
}

cap_stop() {    # NAME
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	CAP_PID=""
	cp "$WORK/cap.pcap" "$WORK/$1.pcap"
}

SRV_PID=""
srv_start() {   # SCENARIO ADDR PORT [extra args]
	local sc=$1 addr=$2 port=$3
	shift 3
	rm -f "$WORK/ready"
	in_srv "${TPC[@]}" server "$sc" --addr "$addr" --port "$port" --ready "$WORK/ready" "$@" &
	SRV_PID=$!
	for _ in $(seq 100); do
		[ -e "$WORK/ready" ] && return 0
		sleep 0.05
	done
	echo "make-captures: server for $sc did not start" >&2
	return 1
}

srv_wait() { wait "$SRV_PID"; SRV_PID=""; }
srv_kill() { kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""; }

client() {      # SCENARIO ADDR PORT BINDADDR BINDPORT
	fg in_cli "${TPC[@]}" client "$1" --addr "$2" --port "$3" --bind-addr "$4" --bind-port "$5"
}

# A client/server pair where both programs end by themselves.
plain() {       # SCENARIO CAPTURE_SIDE(cli|srv) SPORT CPORT [family 4|6]
	local sc=$1 side=$2 sport=$3 cport=$4 fam=${5:-4}
	local s=$S4 c=$C4
	[ "$fam" = 6 ] && { s=$S6; c=$C6; }
	ns_up
	if [ "$side" = cli ]; then cap_start $CLI veth-c; else cap_start $SRV veth-s; fi
	srv_start "$sc" "$s" "$sport"
	client "$sc" "$s" "$sport" "$c" "$cport"
	srv_wait
	cap_stop "$sc"
}

# ---------------------------------------------------------------- scenarios

sc_close-client-first() { plain close-client-first cli 8001 40001; }
sc_close-server-first() { plain close-server-first srv 8002 40002; }
sc_three-segment()      { plain three-segment cli 8003 40003; }
sc_half-close()         { plain half-close cli 8005 40005; }
sc_reset-by-client()    { plain reset-by-client cli 8006 40006; }
sc_reset-by-server()    { plain reset-by-server srv 8016 40016; }
sc_ipv6()               { plain ipv6 cli 8012 40012 6; }
sc_port-reuse()         { plain port-reuse cli 8013 40013; }

# Both apps close() at the same instant (agreed over the connection). netem
# is not in every kernel (not in this one), so the delay comes from a tbf
# qdisc on veth-s: rate 120 kbit/s, bucket 1540 bytes. Just before close()
# the server sends two 1514-byte UDP fillers (not TCP: TCP small queues would
# hold our FIN back inside TCP instead of in the qdisc, and it would then
# carry the ACK of the client's FIN); the first empties the bucket, the
# second waits ~99 ms, the FIN behind it. The client closes 20 ms after the
# agreed instant, so its FIN reaches the server before the server's FIN
# leaves: the FINs cross, each acks only data, both ends go CLOSING ->
# TIME-WAIT. The capture filter (tcp) leaves the fillers out.
sc_simultaneous-close() {
	ns_up
	in_srv tc qdisc add dev veth-s root tbf rate 120kbit burst 1540 latency 500ms
	cap_start $CLI veth-c
	srv_start simultaneous-close $S4 8004
	client simultaneous-close $S4 8004 $C4 40004
	srv_wait
	cap_stop simultaneous-close
}

# Nothing answers: no listener on 8007, the kernel answers RST+ACK.
sc_refused() {
	ns_up
	cap_start $CLI veth-c
	client refused $S4 8007 $C4 40007
	cap_stop refused
}

# The SYN is dropped at the server's input; the client (tcp_syn_retries=2)
# sends it at +0, +1, +3 s and gives up at +7 s (ETIMEDOUT).
sc_syn-unanswered() {
	ns_up
	in_srv nft add rule inet tpc in tcp dport 8008 tcp flags syn drop
	cap_start $CLI veth-c
	srv_start syn-unanswered $S4 8008
	client syn-unanswered $S4 8008 $C4 40008
	srv_kill
	cap_stop syn-unanswered
}

# A SYN from 10.99.0.77, an address nobody has: the server's neighbour entry
# sends the SYN-ACKs to veth-c, where the client namespace (not a router, not
# the owner) drops them silently. The server (tcp_synack_retries=2)
# retransmits at +1 and +3 s; it sits in SYN-RECEIVED. Captured on the
# server side.
sc_half-open() {
	ns_up
	local mac
	mac=$(ip -n $CLI -o link show veth-c | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n $SRV neigh replace 10.99.0.77 lladdr "$mac" dev veth-s nud permanent
	cap_start $SRV veth-s
	srv_start half-open $S4 8009
	fg in_cli "${TPC[@]}" spoof-syn --src 10.99.0.77 --sport 40009 --dst $S4 --dport 8009
	fg sleep 3.7
	cap_stop half-open
	srv_kill
}

# Client closes first; the server closes 0.5 s later (LAST-ACK) and, just
# before, adds an nft rule dropping the client's pure ACKs at its input,
# removed 100 ms later: the final ACK is lost after the capture point (the
# client side), the server retransmits its FIN after its RTO (>= 200 ms) and
# the client, in TIME-WAIT, ACKs it again. See tpc.py serve_one().
sc_lost-final-ack() { plain lost-final-ack cli 8010 40010; }

# As close-client-first, but once the client has sent its FIN an nft rule in
# its namespace drops its pure ACKs at its output, before any tap: the final
# ACK and every re-ACK. Captured on the server side, which sits in LAST-ACK
# and resends its FIN (at about +0.2, +0.4, +0.8, +1.7 s here) without an answer.
sc_final-ack-unseen() { plain final-ack-unseen srv 8014 40014; }

# As final-ack-unseen, but the client's rule goes after 1.2 s: the final ACK
# and the re-ACKs of the server's first FIN retransmissions die at the
# client's output, the re-ACK of the next one reaches the server. Captured on
# the server side, with TCP timestamps (the default): that ACK echoes the
# TSval of the server's first FIN, which the client got (its TIME-WAIT keeps
# the TSval of the FIN that put it there).
sc_lost-final-ack-srv() { plain lost-final-ack-srv srv 8018 40018; }

# The same without TCP timestamps (the client's net.ipv4.tcp_timestamps=0,
# so none are negotiated): from the server side nothing tells a lost FIN
# from lost ACKs.
sc_lost-final-ack-nots() {
	ns_up
	in_cli sysctl -qw net.ipv4.tcp_timestamps=0
	cap_start $SRV veth-s
	srv_start lost-final-ack-nots $S4 8019
	client lost-final-ack-nots $S4 8019 $C4 40019
	srv_wait
	cap_stop lost-final-ack-nots
}

# The client's first FIN dies at the server's input (an nft rule the server
# adds before its reply and removes 0.32 s later); the client, which closes
# 0.2 s after the reply, resends it after its RTO and the server ACKs that
# one, then closes (4-way). Captured on the client side: the FIN twice, the
# server's ACK echoing the TSval of the second.
sc_lost-first-fin() { plain lost-first-fin cli 8020 40020; }

# A 4-way close that completes normally (as close-client-first), captured on
# the client side, then cut after the server's FIN: a capture that stopped
# between the FIN and the final ACK. verify.py checks in the full capture
# that the final ACK did follow and the FIN was sent once, then keeps the
# frames up to the FIN (editcap).
sc_capture-cut() {
	plain capture-cut cli 8011 40011
	mv "$WORK/capture-cut.pcap" "$WORK/capture-cut-full.pcap"
	# on failure no capture-cut.pcap: the check below fails and the scenario is retried
	"${VERIFY[@]}" cut "$WORK/capture-cut-full.pcap" "$WORK/capture-cut.pcap" || rm -f "$WORK/capture-cut.pcap"
}

# ~350 SYNs in 1 s from distinct spoofed sources in 10.98.0.0/16 toward
# 10.99.0.2:8080 (listen(16), tcp_syncookies=1, tcp_synack_retries=1), behind
# an nft SYN rate limiter for untrusted sources (250/s, burst 5; the client
# 10.99.0.1 is allowlisted) that drops about a quarter of the flood before
# TCP sees it (those SYNs stay unanswered). The first 16-17
# fill the SYN queue (SYN-ACK retransmitted), the rest get one syncookie
# SYN-ACK. The
# server routes 10.98.0.0/16 back to the client namespace, which drops the
# SYN-ACKs silently. Legitimate connections from 10.99.0.1 at +0.25, +0.5,
# +0.75 s (during the flood) and +4.5 s (after it). Captured on the server side.
sc_syn-flood() {
	ns_up
	ip -n $SRV route add 10.98.0.0/16 via $C4
	in_srv sysctl -qw net.ipv4.tcp_synack_retries=1
	in_srv nft add rule inet tpc in ip saddr != $C4 tcp dport 8080 tcp flags == syn \
		limit rate over 250/second burst 5 packets drop
	cap_start $SRV veth-s
	srv_start flood-legit $S4 8080 --backlog 16 --count 4 --linger 20
	fg in_cli "${TPC[@]}" flood --dst $S4 --dport 8080 --count 350 --duration 1.0 --seed 11 \
		--legit-addr $C4 --legit-ports 40111,40112,40113,40114 --legit-at 0.25,0.5,0.75,4.5 \
		--sample-out "$HERE/scenarios/flood-sample.json"
	srv_wait
	sleep 0.5
	cap_stop syn-flood
}

# TCP Fast Open (RFC 7413): the client's request rides on its SYN
# (sendto(MSG_FASTOPEN)), and the server's SYN-ACK acknowledges it: ISN+1
# plus the data. net.ipv4.tcp_fastopen lets both ends do it without a
# cookie exchange first (client 0x1|0x4, server 0x2|0x200), so one
# connection shows it. Otherwise as close-client-first; captured on the
# client side.
sc_tfo() {
	ns_up
	in_cli sysctl -qw net.ipv4.tcp_fastopen=5
	in_srv sysctl -qw net.ipv4.tcp_fastopen=514
	cap_start $CLI veth-c
	srv_start tfo $S4 8017
	client tfo $S4 8017 $C4 40017
	srv_wait
	cap_stop tfo
}

# A client reconnects from the port of a connection the server still holds.
# The old connection (not captured) was opened and then aborted with its RST
# dropped at the client's output, so the server sits in ESTABLISHED. The new
# SYN meets it: the server answers with a challenge ACK (RFC 5961 4) carrying
# its old numbers, the client, in SYN-SENT, answers that with <SEQ=SEG.ACK>
# <CTL=RST> (RFC 9293 3.10.7.3), which resets the server's old connection, and
# retransmits its SYN after its RTO: that one opens normally. Captured on
# the client side from the new SYN on.
sc_stale-reconnect() {
	ns_up
	srv_start stale-reconnect $S4 8018
	client stale-reconnect-old $S4 8018 $C4 40018
	cap_start $CLI veth-c
	client stale-reconnect $S4 8018 $C4 40018
	srv_wait
	cap_stop stale-reconnect
}

# The handshake's ACK is lost; the server (which speaks first, so nothing
# else from the client can complete the open) sits in SYN-RECEIVED and
# retransmits its SYN-ACK after 1 s, which the client ACKs again. The ACK is
# dropped for 0.5 s: for the client-side capture at the server's input (the
# capture shows it leave), for the server-side one at the client's output
# (the capture never shows it).
lost_handshake_ack() {  # SCENARIO SIDE SPORT CPORT
	local sc=$1 side=$2 sport=$3 cport=$4
	ns_up
	if [ "$side" = cli ]; then
		cap_start $CLI veth-c
		in_srv nft add rule inet tpc in tcp sport "$cport" tcp flags == ack counter drop
	else
		cap_start $SRV veth-s
		in_cli nft add chain inet tpc out '{ type filter hook output priority 0; }'
		in_cli nft add rule inet tpc out tcp sport "$cport" tcp flags == ack counter drop
	fi
	srv_start "$sc" $S4 "$sport"
	in_cli "${TPC[@]}" client "$sc" --addr $S4 --port "$sport" --bind-addr $C4 --bind-port "$cport" &
	local cpid=$!
	fg sleep 0.5
	in_srv nft flush chain inet tpc in
	in_cli nft delete chain inet tpc out 2>/dev/null || true
	wait $cpid
	srv_wait
	cap_stop "$sc"
}
sc_lost-handshake-ack-cli() { lost_handshake_ack lost-handshake-ack-cli cli 8019 40019; }
sc_lost-handshake-ack-srv() { lost_handshake_ack lost-handshake-ack-srv srv 8021 40021; }

# The server loses the connection without a FIN or RST reaching the client
# (an abortive close whose RST dies at its output, then the program exits):
# RFC 9293 3.5.1's half-open connection. The client's next data meets no
# socket and is answered by <SEQ=SEG.ACK><CTL=RST>. Captured on the client side.
sc_peer-crash() { plain peer-crash cli 8020 40020; }

# The server listens with a backlog of 0 and never accepts: a filler
# connection (port 40023) fills its accept queue, and the kernel then drops
# the SYN from 40022 without an answer (tcp_syn_retries=2: sent at +0, +1,
# +3 s). Captured on the client side.
sc_backlog-full() {
	ns_up
	cap_start $CLI veth-c
	srv_start backlog-full $S4 8022 --backlog 0 --linger 9
	client backlog-full $S4 8022 $C4 40022
	srv_kill
	cap_stop backlog-full
}

# The client's SYN and its request leave in IPv4 fragments of 16 bytes
# (tpc.py frag-client, in user space: the kernel never fragments TCP); the
# server is a real listener, whose kernel reassembles them and answers. The
# client's own kernel knows nothing of the connection: its RSTs to the
# server's segments are dropped at its output. The client closes first.
# Captured on the client side, where the fragments are as sent.
sc_fragmented-syn() {
	ns_up
	in_cli nft add chain inet tpc out '{ type filter hook output priority 0; policy accept; }'
	in_cli nft add rule inet tpc out tcp sport 40018 tcp flags rst drop
	cap_start $CLI veth-c
	srv_start fragmented-syn $S4 8018
	fg in_cli "${TPC[@]}" frag-client --src $C4 --sport 40018 --dst $S4 --dport 8018
	srv_wait
	cap_stop fragmented-syn
}

# As lost-final-ack (the final ACK dropped at the server's input, captured
# on the client side), with TCP timestamps off in both namespaces: at this
# vantage the final ACK seen and then the FIN again prove the loss without
# them.
sc_lost-final-ack-nots-cli() {
	ns_up
	in_cli sysctl -qw net.ipv4.tcp_timestamps=0
	in_srv sysctl -qw net.ipv4.tcp_timestamps=0
	cap_start $CLI veth-c
	srv_start lost-final-ack-nots-cli $S4 8025
	client lost-final-ack-nots-cli $S4 8025 $C4 40025
	srv_wait
	cap_stop lost-final-ack-nots-cli
}

# A spurious retransmission: the server's ACK of the client's data waits
# ~370 ms behind UDP fillers in a tbf qdisc on veth-s (as in
# simultaneous-close), longer than the client's 200 ms minimum RTO: the
# client sends the data again, then the ACK of the first arrives, echoing
# the first transmission's TSval (RFC 3522). Captured on the client side.
sc_spurious-rto() {
	ns_up
	in_srv tc qdisc add dev veth-s root tbf rate 120kbit burst 1540 latency 800ms
	cap_start $CLI veth-c
	srv_start spurious-rto $S4 8026
	client spurious-rto $S4 8026 $C4 40026
	srv_wait
	cap_stop spurious-rto
}

# Linux's default SYN retries (tcp_syn_retries=6) with exponential backoff
# only (tcp_syn_linear_timeouts=0, the only behaviour of kernels before 6.5,
# Debian 12's among them): the SYN is dropped at the server's input and sent
# at +0, +1, +3, +7, +15, +31 and +63 s. The client is stopped just after the
# last one (it would give up at +127 s). One connection attempt whose SYNs
# are up to 32 s apart: tshark keeps one tcp.stream. Captured on the client side.
sc_syn-retries-long() {
	ns_up
	in_cli sysctl -qw net.ipv4.tcp_syn_retries=6
	[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ] && in_cli sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
	in_srv nft add rule inet tpc in tcp dport 8023 tcp flags syn drop
	cap_start $CLI veth-c
	srv_start syn-unanswered $S4 8023 --linger 70
	in_cli "${TPC[@]}" client syn-unanswered --addr $S4 --port 8023 --bind-addr $C4 --bind-port 40024 &
	local cpid=$!
	fg sleep 64
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" 2>/dev/null || true
	srv_kill
	cap_stop syn-retries-long
}

# ---------------------------------------------------------------- main

if [ $# -gt 0 ]; then SEL=("$@"); else SEL=("${ALL[@]}"); fi
for sc in "${SEL[@]}"; do
	declare -F "sc_$sc" >/dev/null || { echo "make-captures: unknown scenario $sc (known: ${ALL[*]})" >&2; exit 1; }
done

for sc in "${SEL[@]}"; do
	ok=""
	for attempt in 1 2 3; do
		echo "== $sc (attempt $attempt)" >&2
		"sc_$sc"
		ns_down
		# TPC_RAW_OUT=DIR keeps every attempt, checked or not: what the
		# kernel did when a new scenario's check is still being written
		[ -n "${TPC_RAW_OUT:-}" ] && cp "$WORK/$sc.pcap" "$TPC_RAW_OUT/$sc-$attempt.pcap"
		if "${VERIFY[@]}" check "$sc" "$WORK/$sc.pcap"; then
			cp "$WORK/$sc.pcap" "$OUT/$sc.pcap"
			ok=1
			break
		fi
	done
	[ -n "$ok" ] || { echo "make-captures: $sc: the kernel did not do what the scenario needs, 3 times" >&2; exit 1; }
done

"${VERIFY[@]}" expected "$OUT"

# demo.pcapng is merged again only when one of its scenarios was recorded:
# the README's example output and pictures come from it.
remerge=""
for sc in "${SEL[@]}"; do [[ " ${DEMO[*]} " == *" $sc "* ]] && remerge=1; done
if [ -n "$remerge" ]; then
	demo=()
	for sc in "${DEMO[@]}"; do [ -e "$OUT/$sc.pcap" ] && demo+=("$OUT/$sc.pcap"); done
	mergecap -F pcapng -w "$OUT/demo.pcapng" "${demo[@]}"
fi
chmod 644 "$OUT"/*.pcap "$OUT/demo.pcapng" "$OUT/expected.tsv"
echo "make-captures: done: $(ls "$OUT"/*.pcap | wc -l) captures, demo.pcapng, expected.tsv" >&2
