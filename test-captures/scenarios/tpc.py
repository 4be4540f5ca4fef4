#!/usr/bin/env python3
"""Client and server roles for test-captures/make-captures.sh.

Plain stdlib sockets, so every segment in the captures is built by the Linux
kernel. scapy is used only to build the spoofed SYNs (half-open, flood) and
the fragmented client (frag-client); they are sent through a plain raw
socket.

usage:
  tpc.py server SCENARIO --addr A --port P [--ready FILE]
  tpc.py client SCENARIO --addr A --port P --bind-addr B --bind-port Q
  tpc.py spoof-syn --src S --sport Q --dst A --dport P
  tpc.py frag-client --src S --sport Q --dst A --dport P
  tpc.py flood --dst A --dport P --count N --duration S --seed K
               --legit-addr B --legit-ports Q1,Q2,... --legit-at T1,T2,...
               --sample-out FILE

Scenarios (both roles): close-client-first, close-server-first,
three-segment, simultaneous-close, half-close, reset-by-client,
reset-by-server, refused (client only), syn-unanswered, lost-final-ack,
final-ack-unseen, capture-cut, ipv6, port-reuse, flood-legit (server only),
fragmented-syn (server only: its client is frag-client), stale-reconnect,
lost-handshake-ack-cli, lost-handshake-ack-srv, peer-crash, backlog-full,
lost-final-ack-srv, lost-final-ack-nots, lost-final-ack-nots-cli, lost-first-fin,
spurious-rto.
"""
import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time


def log(*a):
    print("tpc:", *a, file=sys.stderr, flush=True)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_all(s):
    """Read until EOF; return the bytes."""
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d


def recv_line(s):
    out = b""
    while not out.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            break
        out += d
    return out


def sleep_until(t):
    while True:
        d = t - time.time()
        if d <= 0:
            return
        time.sleep(min(d, 0.05) if d > 0.002 else 0)


def nft(*args):
    subprocess.run(["nft"] + list(args), check=True)


# ---------------------------------------------------------------- server side

def server(args):
    fam = family_of(args.addr)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.addr, args.port))
    ls.listen(args.backlog)
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")
    sc = args.scenario

    if sc in ("syn-unanswered", "half-open"):
        # Listen and never accept: the SYN is dropped by nft (syn-unanswered)
        # or comes from an address nobody owns (half-open). Killed by the script.
        time.sleep(args.linger)
        return

    if sc == "flood-legit":
        # Serve the legitimate connections made during and after the flood.
        ls.settimeout(args.linger)
        for _ in range(args.count):
            try:
                c, peer = ls.accept()
            except socket.timeout:
                log("flood server: accept timed out")
                return
            req = recv_line(c)
            c.sendall(b"pong " + req)
            recv_all(c)          # client closes first
            c.close()            # FIN right after EOF
        return

    if sc == "stale-reconnect":
        stale_reconnect_server(ls, args)
        return

    if sc == "backlog-full":
        # listen(0) and never accept: the first connection fills the accept
        # queue, so the kernel drops the next SYN (LISTENOVERFLOWS).
        time.sleep(args.linger)
        return

    if sc == "tfo":
        # TCP Fast Open (RFC 7413): accept data carried by the SYN. The
        # namespace's net.ipv4.tcp_fastopen lets it in without a cookie.
        ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)

    rounds = 2 if sc == "port-reuse" else 1
    for rnd in range(rounds):
        c, peer = ls.accept()
        serve_one(sc, c, peer, rnd, args)


def stale_reconnect_server(ls, args):
    """Hold the first connection open (never read it again), serve the
    second; the client's reset of the first comes from SYN-SENT."""
    old, _ = ls.accept()
    old.sendall(b"reply to " + recv_line(old))
    c, peer = ls.accept()
    serve_one("close-client-first", c, peer, 1, args)
    try:
        d = old.recv(100)
        log(f"stale-reconnect: the old connection read {d!r}")
    except ConnectionResetError:
        log("stale-reconnect: the old connection was reset (as intended)")


def serve_one(sc, c, peer, rnd, args):
    if sc in ("lost-handshake-ack-cli", "lost-handshake-ack-srv"):
        # Server speaks first: the client sends nothing but the handshake's
        # ACK until our greeting, so only that ACK can complete the open.
        c.sendall(b"220 hello\n")
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        recv_all(c)
        time.sleep(0.3)
        c.close()

    elif sc == "spurious-rto":
        # "ARM": fill our tbf qdisc with ~400 ms of UDP (the client drops
        # it), so that our ACK of the client's next segment waits behind it,
        # longer than the client's 200 ms minimum RTO.
        recv_line(c)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(5):
            u.sendto(b"\0" * 1472, (peer[0], 9))
        u.close()
        req = recv_line(c)       # the data, twice on the wire
        time.sleep(0.6)
        c.sendall(b"reply to " + req)
        recv_all(c)
        time.sleep(0.3)
        c.close()

    elif sc == "peer-crash":
        # Lose the connection's state without telling the client: an
        # abortive close whose RST dies at our output, as if the host had
        # rebooted. The client's next segment meets no socket at all.
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        time.sleep(0.2)
        nft("add", "chain", "inet", "tpc", "out", "{ type filter hook output priority 0; }")
        nft("add", "rule", "inet", "tpc", "out", "tcp", "sport", str(args.port), "tcp", "flags", "rst",
            "counter", "drop")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        time.sleep(0.1)
        nft("flush", "chain", "inet", "tpc", "out")
        log("peer-crash: state dropped silently")

    elif sc in ("close-client-first", "capture-cut", "final-ack-unseen", "tfo", "fragmented-syn",
              "lost-final-ack-srv", "lost-final-ack-nots"):
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        recv_all(c)              # the client's FIN
        time.sleep(0.3)          # the delayed ACK (~40 ms) goes out alone: 4-way close
        c.close()

    elif sc in ("three-segment", "ipv6"):
        req = recv_line(c)
        c.sendall(b"reply to " + req + b"x" * 200)
        recv_all(c)
        c.close()                # at once: the FIN rides on the ACK of the client's FIN

    elif sc == "close-server-first":
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        time.sleep(0.05)
        c.close()                # server closes first; it will hold TIME-WAIT

    elif sc == "simultaneous-close":
        # "CLOSE_AT <epoch>" from the client: both close around that instant.
        # The server's FIN is held ~100 ms in a tbf qdisc on veth-s (see the
        # script): two UDP fillers sent just before close() empty the token
        # bucket, so the FIN leaves only after the client's FIN went out.
        req = recv_line(c)
        t = float(req.split()[1])
        c.sendall(b"ok\n")
        sleep_until(t)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(2):
            u.sendto(b"\0" * 1472, (peer[0], 9))
        c.close()
        u.close()
        time.sleep(1.0)

    elif sc == "half-close":
        req = recv_all(c)        # request then the client's FIN (shutdown SHUT_WR)
        for i in range(10):      # ~2 s of data into the half-closed connection
            c.sendall(b"chunk %02d " % i + b"d" * 90 + b"\n")
            time.sleep(0.2)
        c.close()

    elif sc == "reset-by-client":
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        try:
            d = c.recv(100)
            log("reset-by-client: server read", d)
        except ConnectionResetError:
            log("reset-by-client: server got ECONNRESET (as intended)")
        c.close()

    elif sc == "reset-by-server":
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        time.sleep(0.2)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()                # abortive close: RST

    elif sc in ("lost-final-ack", "lost-final-ack-nots-cli"):
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        recv_all(c)              # the client closed first
        time.sleep(0.5)          # server in CLOSE-WAIT, then LAST-ACK below
        cport = peer[1]
        # drop the client's final pure ACK at our input, for ~100 ms only
        nft("add", "rule", "inet", "tpc", "in", "ip", "saddr", peer[0], "tcp", "sport", str(cport),
            "tcp", "dport", str(args.port), "tcp", "flags", "==", "ack", "counter", "drop")
        c.close()
        time.sleep(0.1)
        nft("flush", "chain", "inet", "tpc", "in")
        log("lost-final-ack: rule removed")
        time.sleep(1.0)

    elif sc == "lost-first-fin":
        # The client closes 0.2 s after our reply; its first FIN dies at our
        # input (the client-side capture saw it), the rule is gone before
        # its retransmission (RTO >= 200 ms) comes.
        req = recv_line(c)
        cport = peer[1]
        nft("add", "rule", "inet", "tpc", "in", "ip", "saddr", peer[0], "tcp", "sport", str(cport),
            "tcp", "dport", str(args.port), "tcp", "flags", "&", "fin", "==", "fin", "counter", "drop")
        c.sendall(b"reply to " + req)
        time.sleep(0.32)
        nft("flush", "chain", "inet", "tpc", "in")
        log("lost-first-fin: rule removed")
        recv_all(c)              # the client's FIN, the second time
        time.sleep(0.3)          # our ACK alone first: 4-way close
        c.close()
        time.sleep(0.5)

    elif sc == "port-reuse":
        req = recv_line(c)
        c.sendall(b"reply to " + req)
        if rnd == 0:
            time.sleep(0.05)
            c.close()            # server closes first: server TIME-WAIT on the 4-tuple
        else:
            recv_all(c)
            c.close()
    else:
        raise SystemExit(f"unknown scenario {sc}")


# ---------------------------------------------------------------- client side

def connect(args, bind_port=None):
    fam = family_of(args.addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bp = args.bind_port if bind_port is None else bind_port
    if args.bind_addr or bp:
        s.bind((args.bind_addr or "", bp or 0))
    s.connect((args.addr, args.port))
    return s


def client(args):
    sc = args.scenario
    if sc == "refused":
        try:
            connect(args)
        except ConnectionRefusedError:
            log("refused: ECONNREFUSED (as intended)")
            return
        raise SystemExit("refused: connection unexpectedly succeeded")

    if sc == "syn-unanswered":
        t0 = time.time()
        try:
            connect(args)
        except (TimeoutError, OSError) as e:
            log(f"syn-unanswered: connect failed after {time.time() - t0:.1f} s: {e!r} (as intended)")
            return
        raise SystemExit("syn-unanswered: connection unexpectedly succeeded")

    if sc == "tfo":
        # The request rides on the SYN (sendto with MSG_FASTOPEN connects).
        fam = family_of(args.addr)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((args.bind_addr, args.bind_port))
        s.sendto(b"tfo request\n", socket.MSG_FASTOPEN, (args.addr, args.port))
        reply = recv_line(s)
        log(f"tfo: reply {reply!r}")
        s.close()
        time.sleep(1.0)          # the server's FIN, and our final ACK
        return

    if sc == "stale-reconnect-old":
        # The old connection: open it, then forget it the way a crashed or
        # rebooted client does. The abortive close's RST dies at our output,
        # so the server still holds the connection ESTABLISHED.
        s = connect(args)
        s.sendall(b"old\n")
        recv_line(s)
        nft("add", "chain", "inet", "tpc", "out", "{ type filter hook output priority 0; }")
        nft("add", "rule", "inet", "tpc", "out", "tcp", "sport", str(args.bind_port), "tcp", "flags", "rst",
            "counter", "drop")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(0.1)
        nft("flush", "chain", "inet", "tpc", "out")
        return

    if sc == "stale-reconnect":
        # Same port again: the server answers our SYN with a challenge ACK
        # (its old numbers); from SYN-SENT we reset that, retransmit the SYN
        # after our RTO and connect. connect() hides all of it.
        s = connect(args)
        s.sendall(b"hello again\n")
        recv_line(s)
        s.close()
        time.sleep(1.0)
        return

    if sc == "backlog-full":
        # The filler connection fills the listener's accept queue; our SYN
        # from bind_port is then dropped by the server's kernel.
        f = connect(args, bind_port=args.bind_port + 1)
        time.sleep(0.2)
        t0 = time.time()
        try:
            connect(args)
        except (TimeoutError, OSError) as e:
            log(f"backlog-full: connect failed after {time.time() - t0:.1f} s: {e!r} (as intended)")
            f.close()
            time.sleep(0.3)
            return
        raise SystemExit("backlog-full: connection unexpectedly succeeded")

    if sc in ("lost-handshake-ack-cli", "lost-handshake-ack-srv"):
        s = connect(args)
        recv_line(s)             # the server's greeting, once our ACK got through
        s.sendall(b"hello\n")
        recv_line(s)
        s.close()
        time.sleep(1.0)
        return

    if sc == "spurious-rto":
        s = connect(args)
        s.sendall(b"ARM\n")
        time.sleep(0.03)         # the server's qdisc is full now
        s.sendall(b"data that gets resent\n")
        recv_line(s)
        s.close()
        time.sleep(1.0)
        return

    if sc == "peer-crash":
        s = connect(args)
        s.sendall(b"hello\n")
        recv_line(s)
        time.sleep(1.0)          # meanwhile the server loses the connection
        s.sendall(b"are you there?\n")
        try:
            d = s.recv(100)
            log(f"peer-crash: read {d!r}")
        except ConnectionResetError:
            log("peer-crash: ECONNRESET (as intended)")
        s.close()
        time.sleep(0.3)
        return

    if sc == "port-reuse":
        s = connect(args)
        s.sendall(b"first\n")
        recv_all(s)              # server's FIN
        s.close()                # LAST-ACK -> CLOSED once the server ACKs
        time.sleep(0.5)          # server side still in TIME-WAIT (60 s)
        s = connect(args)        # same 4-tuple: SYN into the server's TIME-WAIT
        s.sendall(b"second\n")
        recv_line(s)
        time.sleep(0.1)
        s.close()
        time.sleep(0.5)
        return

    s = connect(args)
    if sc in ("close-client-first", "three-segment", "lost-final-ack", "lost-final-ack-nots-cli", "ipv6", "capture-cut",
              "final-ack-unseen", "lost-final-ack-srv", "lost-final-ack-nots", "lost-first-fin"):
        s.sendall(b"hello %s\n" % sc.encode())
        recv_line(s)
        if sc == "lost-first-fin":
            time.sleep(0.2)      # the server's drop rule is in place
        if sc in ("three-segment", "ipv6"):
            time.sleep(0.1)      # let the whole reply arrive
            while True:          # drain so close() sends FIN, not RST
                s.setblocking(False)
                try:
                    if not s.recv(65536):
                        break
                except BlockingIOError:
                    break
            s.setblocking(True)
        s.close()
        if sc == "final-ack-unseen":
            # From now on our pure ACKs die at our output, before any tap:
            # the final ACK and every re-ACK of the server's FIN. The server
            # (LAST-ACK) resends its FIN at each RTO and never hears back.
            nft("add", "chain", "inet", "tpc", "out", "{ type filter hook output priority 0; }")
            nft("add", "rule", "inet", "tpc", "out", "tcp", "sport", str(args.bind_port),
                "tcp", "flags", "==", "ack", "counter", "drop")
            time.sleep(2.5)
        elif sc in ("lost-final-ack-srv", "lost-final-ack-nots"):
            # As final-ack-unseen, but only for 1.2 s: the final ACK and the
            # re-ACKs of the server's first retransmissions die at our output;
            # the re-ACK of the next one (about +1.7 s) reaches the server.
            nft("add", "chain", "inet", "tpc", "out", "{ type filter hook output priority 0; }")
            nft("add", "rule", "inet", "tpc", "out", "tcp", "sport", str(args.bind_port),
                "tcp", "flags", "==", "ack", "counter", "drop")
            time.sleep(1.2)
            nft("flush", "chain", "inet", "tpc", "out")
            log(f"{sc}: output rule removed")
            time.sleep(2.0)
        else:
            time.sleep(1.5)

    elif sc == "close-server-first":
        s.sendall(b"hello\n")
        recv_all(s)              # server's FIN
        time.sleep(0.3)          # our ACK goes out alone first
        s.close()
        time.sleep(0.5)

    elif sc == "simultaneous-close":
        t = time.time() + 1.5
        s.sendall(b"CLOSE_AT %.6f\n" % t)
        recv_line(s)
        sleep_until(t + 0.02)
        s.close()
        time.sleep(1.0)

    elif sc == "half-close":
        s.sendall(b"give me data, I am done sending\n")
        s.shutdown(socket.SHUT_WR)
        data = recv_all(s)
        log(f"half-close: read {len(data)} bytes after our FIN")
        s.close()
        time.sleep(0.5)

    elif sc == "reset-by-client":
        s.sendall(b"hello\n")
        recv_line(s)
        time.sleep(0.2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()                # abortive close: RST
        time.sleep(0.5)

    elif sc == "reset-by-server":
        s.sendall(b"hello\n")
        try:
            while s.recv(100):
                pass
            log("reset-by-server: EOF?")
        except ConnectionResetError:
            log("reset-by-server: ECONNRESET (as intended)")
        s.close()
        time.sleep(0.3)
    else:
        raise SystemExit(f"unknown scenario {sc}")


# ---------------------------------------------------------------- spoofing

def syn_bytes(src, sport, dst, dport, seq, tsval, ipid):
    from scapy.all import IP, TCP, raw
    pkt = IP(src=src, dst=dst, id=ipid, ttl=64, flags="DF") / TCP(
        sport=sport, dport=dport, flags="S", seq=seq, window=64240,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval, 0)),
                 ("NOP", None), ("WScale", 7)])
    return raw(pkt)


def raw_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def spoof_syn(args):
    r = random.Random(args.seed)
    p = syn_bytes(args.src, args.sport, args.dst, args.dport, r.getrandbits(32), r.getrandbits(32),
                  r.randrange(65536))
    raw_socket().sendto(p, (args.dst, 0))
    log(f"spoofed SYN {args.src}:{args.sport} -> {args.dst}:{args.dport} sent")


def frag_client(args):
    """A client in user space whose SYN and request leave in IPv4 fragments
    of 16 bytes (the kernel never fragments TCP itself: it sizes segments to
    the path MTU). The server is a real listener: its kernel reassembles the
    SYN and answers. Replies come in through a raw socket; the client's own
    kernel, which knows nothing of the connection, would answer them with a
    RST: make-captures.sh drops those at its output. The client closes first
    (FIN after the reply), then ACKs the server's FIN."""
    from scapy.all import IP, TCP, fragment, raw
    r = random.Random(args.seed)
    out, inc = raw_socket(), socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    inc.settimeout(5)
    ipid = r.randrange(1, 65536)

    def send(flags, seq, ack, data=b"", frag=False):
        nonlocal ipid
        ipid = (ipid + 1) & 0xffff
        opts = [("MSS", 1460)] if flags == "S" else []
        pkt = IP(src=args.src, dst=args.dst, id=ipid, ttl=64, flags=0) / TCP(
            sport=args.sport, dport=args.dport, flags=flags, seq=seq, ack=ack, window=64240, options=opts) / data
        pkt = IP(raw(pkt))  # checksums computed before cutting
        for f in (fragment(pkt, fragsize=16) if frag else [pkt]):
            out.sendto(raw(f), (args.dst, 0))

    def receive():
        """The next segment from the server: (flags, seq, ack, payload)."""
        while True:
            d = inc.recv(65536)
            hl = (d[0] & 15) * 4
            t = d[hl:]
            if socket.inet_ntoa(d[12:16]) != args.dst or struct.unpack("!HH", t[:4]) != (args.dport, args.sport):
                continue
            seq, ack = struct.unpack("!II", t[4:12])
            return t[13], seq, ack, t[(t[12] >> 4) * 4:]

    isn = r.getrandbits(32)
    send("S", isn, 0, frag=True)
    fl, sseq, ack, _ = receive()
    if fl & 0x12 != 0x12 or ack != (isn + 1) & 0xffffffff:
        raise SystemExit(f"frag-client: no SYN-ACK for the fragmented SYN (flags {fl:#x})")
    seq, rcv = (isn + 1) & 0xffffffff, (sseq + 1) & 0xffffffff
    send("A", seq, rcv)
    req = b"hello from a fragmented client\n"
    send("PA", seq, rcv, req, frag=True)
    seq = (seq + len(req)) & 0xffffffff
    fin_sent = False
    while True:
        fl, sseq, _, data = receive()
        if data:
            rcv = (sseq + len(data)) & 0xffffffff
            # the reply read: its ACK carries our FIN (the client closes first)
            send("A" if fin_sent else "FA", seq, rcv)
            if not fin_sent:
                fin_sent, seq = True, (seq + 1) & 0xffffffff
        if fl & 0x01:
            rcv = (sseq + len(data) + 1) & 0xffffffff
            send("A", seq, rcv)
            log("frag-client: closed after the server's FIN")
            return


def flood(args):
    r = random.Random(args.seed)
    srcs, seen = [], set()
    while len(srcs) < args.count:
        a = "10.98.%d.%d" % (r.randrange(256), r.randrange(1, 255))
        if a not in seen:
            seen.add(a)
            srcs.append(a)
    plan = []
    for src in srcs:
        sport = r.randrange(1024, 65536)
        plan.append((src, sport, syn_bytes(src, sport, args.dst, args.dport, r.getrandbits(32),
                                           r.getrandbits(32), r.randrange(65536))))
    with open(args.sample_out, "w") as f:
        json.dump([(i, src, sport) for i, (src, sport, _) in enumerate(plan)], f)

    legit_ports = [int(x) for x in args.legit_ports.split(",")]
    legit_at = [float(x) for x in args.legit_at.split(",")]
    t0 = time.time() + 0.2
    errors = []

    def legit(port, at):
        sleep_until(t0 + at)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((args.legit_addr, port))
            s.settimeout(10)
            s.connect((args.dst, args.dport))
            s.sendall(b"ping %d\n" % port)
            recv_line(s)
            s.close()
            log(f"flood: legit connection from port {port} at +{at:.2f} s done")
        except OSError as e:
            errors.append(f"legit {port}: {e!r}")

    threads = [threading.Thread(target=legit, args=(p, a)) for p, a in zip(legit_ports, legit_at)]
    for t in threads:
        t.start()
    s = raw_socket()
    n = len(plan)
    for i, (_, _, pkt) in enumerate(plan):
        sleep_until(t0 + args.duration * i / n)
        s.sendto(pkt, (args.dst, 0))
    log(f"flood: {n} spoofed SYNs sent in {time.time() - t0:.2f} s")
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("flood: " + "; ".join(errors))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="role", required=True)
    p = sub.add_parser("server")
    p.add_argument("scenario")
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--backlog", type=int, default=16)
    p.add_argument("--linger", type=float, default=30)
    p.add_argument("--count", type=int, default=1)
    p = sub.add_parser("client")
    p.add_argument("scenario")
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind-addr")
    p.add_argument("--bind-port", type=int)
    p = sub.add_parser("spoof-syn")
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--seed", type=int, default=9)
    p = sub.add_parser("frag-client")
    p.add_argument("--src", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--seed", type=int, default=18)
    p = sub.add_parser("flood")
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--count", type=int, default=350)
    p.add_argument("--duration", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--legit-addr", required=True)
    p.add_argument("--legit-ports", required=True)
    p.add_argument("--legit-at", required=True)
    p.add_argument("--sample-out", required=True)
    a = ap.parse_args()
    {"server": server, "client": client, "spoof-syn": spoof_syn, "frag-client": frag_client,
     "flood": flood}[a.role](a)


if __name__ == "__main__":
    main()
