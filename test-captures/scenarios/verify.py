#!/usr/bin/env python3
"""Check with tshark that each capture shows what its scenario provoked, and
write expected.tsv from the scenarios (never from tcpphase).

usage:
  verify.py check NAME PCAP      exit 1 if PCAP does not show scenario NAME
  verify.py expected DIR         check every capture in DIR, write DIR/expected.tsv
  verify.py show PCAP            the tshark view the checks use
  verify.py cut FULL OUT         check capture-cut's full capture, write the cut one

The expectations (Zeek conn_state, anomalies, final RFC 9293 states) are
fixed per scenario below, from what the scenario does to the kernel; the
checks make sure the kernel really did it in this capture (a 3-segment close
really is one, the FINs of the simultaneous close really crossed, ...).
"""
import json
import os
import subprocess
import sys

FIELDS = ["frame.number", "frame.time_relative", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
          "ipv6.dst", "tcp.dstport", "tcp.stream", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
          "tcp.len", "tcp.analysis.retransmission", "tcp.completeness", "tcp.options.timestamp.tsval",
          "tcp.options.timestamp.tsecr"]

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
M32 = 1 << 32


class Pkt:
    def __init__(self, v):
        self.frame = int(v[0])
        self.t = float(v[1])
        self.src = v[2] or v[3]
        self.sport = int(v[4])
        self.dst = v[5] or v[6]
        self.dport = int(v[7])
        self.stream = int(v[8])
        self.flags = int(v[9], 16)
        self.seq = int(v[10])
        self.ack = int(v[11])
        self.len = int(v[12])
        self.rtx = bool(v[13])
        self.completeness = int(v[14] or 0)
        # TCP timestamps (RFC 7323), None without the option
        self.tsval = int(v[15]) if len(v) > 15 and v[15] else None
        self.tsecr = int(v[16]) if len(v) > 16 and v[16] else None

    def has(self, f):
        return bool(self.flags & f)

    @property
    def end_seq(self):
        """sequence number one past this segment (SYN and FIN count)."""
        return (self.seq + self.len + (1 if self.has(SYN) else 0) + (1 if self.has(FIN) else 0)) % M32

    def fstr(self):
        s = "".join(c for f, c in ((SYN, "S"), (FIN, "F"), (RST, "R"), (0x08, "P"), (ACK, ".")) if self.flags & f)
        return s

    def __repr__(self):
        return (f"#{self.frame} {self.t:.3f} {self.src}:{self.sport}>{self.dst}:{self.dport} "
                f"[{self.fstr()}] seq={self.seq} ack={self.ack} len={self.len}{' RTX' if self.rtx else ''}")


def read(pcap):
    p = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "separator=\t"] +
                       sum([["-e", f] for f in FIELDS], []), capture_output=True, text=True, check=True)
    return [Pkt(l.split("\t")) for l in p.stdout.splitlines() if l.strip()]


def seq_le(a, b):
    """a <= b in sequence space."""
    return ((b - a) % M32) < (1 << 31)


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


def acks(p, seqno):
    """p acknowledges everything before seqno (seqno itself included in the ack)."""
    return p.has(ACK) and seq_le(seqno, p.ack)


def split(pk, client):
    c = [p for p in pk if p.src == client[0] and p.sport == client[1]]
    s = [p for p in pk if not (p.src == client[0] and p.sport == client[1])]
    return c, s


def handshake(pk, client):
    c, s = split(pk, client)
    need(c and c[0].flags & (SYN | ACK) == SYN, "first client segment is a SYN")
    sa = [p for p in s if p.has(SYN) and p.has(ACK)]
    need(sa and sa[0].ack == (c[0].seq + 1) % M32, "SYN-ACK acknowledges ISN+1")
    a = [p for p in c if not p.has(SYN) and p.has(ACK) and p.ack == (sa[0].seq + 1) % M32]
    need(a, "third handshake ACK acknowledges the server ISN+1")
    return c, s


def close_shape(pk, client):
    """Returns (first closer 'client'/'server', shape) and checks the close completed."""
    c, s = split(pk, client)
    cf = [p for p in c if p.has(FIN)]
    sf = [p for p in s if p.has(FIN)]
    need(cf and sf, "both sides sent a FIN")
    need(not any(p.has(RST) for p in pk), "no RST")
    first = "client" if cf[0].frame < sf[0].frame else "server"
    a, b = (cf[0], sf[0]) if first == "client" else (sf[0], cf[0])
    a_other, b_side = (c, s) if first == "client" else (s, c)
    # the last FIN is acknowledged by the other side
    last_fin = b
    need(any(acks(p, last_fin.end_seq) for p in a_other if p.frame > last_fin.frame),
         "the second FIN is acknowledged (final ACK)")
    if not acks(b, a.end_seq):
        shape = "simultaneous"
    else:
        pure_ack = [p for p in b_side if p.frame < b.frame and not p.has(FIN) and acks(p, a.end_seq)]
        shape = "four_way" if pure_ack else "three_segment"
    return first, shape


def fin_rtx(pk, side):
    fins = [p for p in pk if p.has(FIN) and (p.src, p.sport) == side]
    return fins


# ---------------------------------------------------------------- scenarios
C4, S4 = "10.99.0.1", "10.99.0.2"
C6, S6 = "fd00:99::1", "fd00:99::2"


def row(pcap, scen, oh, op, rh, rp, cs, an, of, rf, why="", forbid="-", frames=()):
    """forbid: anomalies that must not be reported ("*": none at all).
    frames: what single segments must show, (frame, key, value) with key
    anomaly (reported on it), not_anomaly, or a key of the segment's verdict
    (orig_state, resp_state after it; echo, echoed_frame); or as a string,
    ";"-separated "FRAME +ANOMALY", "FRAME -ANOMALY", "FRAME key=value"."""
    if isinstance(frames, str):
        items = []
        for it in filter(None, frames.split(";")):
            f, what = it.split(" ", 1)
            if what[0] in "+-":
                items.append((f, "anomaly" if what[0] == "+" else "not_anomaly", what[1:]))
            else:
                items.append((f,) + tuple(what.split("=", 1)))
        frames = items
    fr = ";".join(f"{f}:{k}={v}" for f, k, v in frames) or "-"
    return dict(pcap=pcap, scenario=scen, orig_h=oh, orig_p=op, resp_h=rh, resp_p=rp,
                expect_conn_state=cs, expect_anomalies=an, expect_orig_final=of, expect_resp_final=rf,
                forbid_anomalies=forbid, expect_frames=fr, why=why)


def only_stream(pk, n=1):
    need(len({p.stream for p in pk}) == n, f"{n} tcp.stream(s) in the capture")


def v_close_client_first(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40001))
    first, shape = close_shape(pk, (C4, 40001))
    need(first == "client", "client closed first")
    need(not any(p.rtx for p in pk), "no retransmission")
    return [row("close-client-first.pcap", "close-client-first", C4, 40001, S4, 8001, "SF", "-",
                "TIME-WAIT", "CLOSED", shape)], shape


def v_close_server_first(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40002))
    first, shape = close_shape(pk, (C4, 40002))
    need(first == "server", "server closed first")
    need(not any(p.rtx for p in pk), "no retransmission")
    return [row("close-server-first.pcap", "close-server-first", C4, 40002, S4, 8002, "SF", "-",
                "CLOSED", "TIME-WAIT", shape)], shape


def v_three_segment(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40003))
    first, shape = close_shape(pk, (C4, 40003))
    need(first == "client" and shape == "three_segment", f"3-segment close (got {first} {shape})")
    c, s = split(pk, (C4, 40003))
    cfin = [p for p in c if p.has(FIN)][0]
    sfin = [p for p in s if p.has(FIN)][0]
    need(sfin.has(ACK) and sfin.ack == cfin.end_seq, "server FIN+ACK acks the client FIN (seq+1)")
    return [row("three-segment.pcap", "three-segment-close", C4, 40003, S4, 8003, "SF", "-",
                "TIME-WAIT", "CLOSED", shape)], shape + f" (FIN #{cfin.frame}, FIN+ACK #{sfin.frame} ack={sfin.ack}=FIN seq+1)"


def v_simultaneous_close(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40004))
    first, shape = close_shape(pk, (C4, 40004))
    need(shape == "simultaneous", f"FINs crossed (got {shape})")
    c, s = split(pk, (C4, 40004))
    cfin = [p for p in c if p.has(FIN)][0]
    sfin = [p for p in s if p.has(FIN)][0]
    need(not acks(cfin, sfin.end_seq) and not acks(sfin, cfin.end_seq), "neither FIN acks the other")
    need(not any(p.rtx for p in pk), "no retransmission")
    # both sides acknowledge the other's FIN afterwards (CLOSING -> TIME-WAIT on both)
    need(any(acks(p, sfin.end_seq) and p.frame > sfin.frame for p in c), "client acks the server FIN")
    need(any(acks(p, cfin.end_seq) and p.frame > cfin.frame for p in s), "server acks the client FIN")
    # the first FIN had not reached its peer when the peer sent its own: the
    # peer was still ESTABLISHED then (it went to FIN-WAIT-1, not CLOSE-WAIT)
    a = cfin if cfin.frame < sfin.frame else sfin
    peer = "resp_state" if a is cfin else "orig_state"
    return [row("simultaneous-close.pcap", "simultaneous-close", C4, 40004, S4, 8004, "SF",
                "simultaneous_close", "TIME-WAIT", "TIME-WAIT", shape,
                frames=[(a.frame, peer, "ESTABLISHED")])], \
        f"FIN #{cfin.frame} ack={cfin.ack} < server FIN seq+1={sfin.end_seq}; FIN #{sfin.frame} ack={sfin.ack} < client FIN seq+1={cfin.end_seq}"


def v_half_close(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40005))
    first, shape = close_shape(pk, (C4, 40005))
    need(first == "client", "client FIN (shutdown) first")
    c, s = split(pk, (C4, 40005))
    cfin = [p for p in c if p.has(FIN)][0]
    sfin = [p for p in s if p.has(FIN)][0]
    data_after = [p for p in s if p.len > 0 and p.frame > cfin.frame]
    need(len(data_after) >= 8, "server keeps sending data after the client's FIN")
    gap = sfin.t - cfin.t
    need(gap > 1.5, f"CLOSE-WAIT lasted > 1.5 s (got {gap:.2f})")
    return [row("half-close.pcap", "half-close", C4, 40005, S4, 8005, "SF", "-", "TIME-WAIT", "CLOSED",
                shape)], f"{len(data_after)} data segments in {gap:.2f} s of CLOSE-WAIT, then {shape}"


def v_reset_by_client(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40006))
    c, s = split(pk, (C4, 40006))
    r = [p for p in pk if p.has(RST)]
    need(len(r) == 1 and r[0] in c, "one RST, from the client")
    need(not any(p.has(FIN) for p in pk), "no FIN")
    need(r[0] is pk[-1], "RST is the last segment")
    return [row("reset-by-client.pcap", "reset-abort-by-client", C4, 40006, S4, 8006, "RSTO", "reset_abort",
                "CLOSED", "CLOSED")], f"RST [{r[0].fstr()}] #{r[0].frame} from the client after data"


def v_reset_by_server(pk, d):
    only_stream(pk)
    handshake(pk, (C4, 40016))
    c, s = split(pk, (C4, 40016))
    r = [p for p in pk if p.has(RST)]
    need(len(r) == 1 and r[0] in s, "one RST, from the server")
    need(not any(p.has(FIN) for p in pk), "no FIN")
    return [row("reset-by-server.pcap", "reset-abort-by-server", C4, 40016, S4, 8016, "RSTR", "reset_abort",
                "CLOSED", "CLOSED")], f"RST [{r[0].fstr()}] #{r[0].frame} from the server after data"


def v_refused(pk, d):
    only_stream(pk)
    need(len(pk) == 2, "two segments")
    need(pk[0].flags == SYN, "SYN")
    need(pk[1].flags == RST | ACK and pk[1].ack == (pk[0].seq + 1) % M32, "RST+ACK acking ISN+1")
    # no listener: the server's TCP never left CLOSED for this SYN
    return [row("refused.pcap", "refused", C4, 40007, S4, 8007, "REJ", "refused", "CLOSED", "CLOSED",
                frames=[(pk[0].frame, "resp_state", "CLOSED")])], \
        "SYN, RST+ACK"


def v_syn_unanswered(pk, d):
    only_stream(pk)
    need(all(p.flags == SYN and p.src == C4 for p in pk), "only SYNs from the client")
    # tcp_syn_retries=2 gives a 7 s budget (1+2+4 s); kernels with
    # tcp_syn_linear_timeouts (6.5+, default 4) spend it on SYNs 1 s apart
    need(len(pk) >= 3 and len({p.seq for p in pk}) == 1, ">= 3 SYNs, same ISN")
    need(all(p.rtx for p in pk[1:]), "tshark flags every later SYN as a retransmission")
    # the SYNs died in nftables before the server's TCP: it has no state
    # for them that any packet shows
    return [row("syn-unanswered.pcap", "syn-unanswered", C4, 40008, S4, 8008, "S0",
                "syn_unanswered,syn_retransmit", "SYN-SENT", "unknown",
                frames=[(p.frame, "resp_state", "unknown") for p in pk])], \
        "SYNs at +%s s" % ", +".join("%.2f" % (p.t - pk[0].t) for p in pk)


def v_half_open(pk, d):
    only_stream(pk)
    need(pk[0].flags == SYN and pk[0].src == "10.99.0.77", "spoofed SYN from 10.99.0.77")
    rest = pk[1:]
    need(len(rest) >= 3 and all(p.flags == SYN | ACK and p.src == S4 for p in rest), "only SYN-ACKs follow")
    need(len({p.seq for p in rest}) == 1 and all(p.ack == (pk[0].seq + 1) % M32 for p in rest),
         "same SYN-ACK each time, acking ISN+1")
    need(all(p.rtx for p in rest[1:]), "tshark flags the later SYN-ACKs as retransmissions")
    # nobody owns 10.99.0.77: no client state exists, none is shown
    return [row("half-open.pcap", "half-open", "10.99.0.77", 40009, S4, 8009, "S1",
                "half_open,synack_retransmit", "unknown", "SYN-RECEIVED")], \
        "SYN, SYN-ACKs at +%s s, never ACKed" % ", +".join("%.2f" % (p.t - pk[0].t) for p in rest)


def fin_acked_twice(pk, cl):
    """lost-final-ack's shape at the client: one connection, the client closes
    first, the server's FIN, the final ACK, the FIN again, the ACK again.
    Returns the server's FINs, the two final ACKs and the close's shape."""
    only_stream(pk)
    handshake(pk, cl)
    c, s = split(pk, cl)
    first, shape = close_shape(pk, cl)
    need(first == "client", "client closed first")
    sf = [p for p in s if p.has(FIN)]
    need(len(sf) == 2 and sf[0].seq == sf[1].seq and sf[1].rtx, "server FIN sent twice (retransmission)")
    final = [p for p in c if not p.has(FIN) and p.flags == ACK and p.ack == sf[0].end_seq]
    need(len(final) == 2, "the client sent the final ACK twice")
    need(sf[0].frame < final[0].frame < sf[1].frame < final[1].frame, "FIN, ACK, FIN again, ACK again")
    return sf, final, shape


def v_lost_final_ack(pk, d):
    sf, final, shape = fin_acked_twice(pk, (C4, 40010))
    need(sf[1].t - sf[0].t >= 0.2, "retransmitted after >= 200 ms (RTO)")
    # the client (TIME-WAIT) echoes the TSval of the FIN that put it there
    e = echoed(pk, (S4, 8010), final[1].tsecr)
    need(e is sf[0], f"the second final ACK #{final[1].frame} echoes the TSval of the first FIN alone")
    frames = f"{final[1].frame} echo=first;{final[1].frame} echoed_frame={sf[0].frame}"
    return [row("lost-final-ack.pcap", "lost-final-ack", C4, 40010, S4, 8010, "SF", "lost_final_ack,fin_retransmit",
                "TIME-WAIT", "CLOSED", frames=frames)], \
        (f"{shape}; server FIN #{sf[0].frame}, final ACK #{final[0].frame} (dropped at the server input), "
         f"FIN again #{sf[1].frame} after {sf[1].t - sf[0].t:.3f} s, ACK again #{final[1].frame}")


def v_lost_final_ack_nots_cli(pk, d):
    need(not any(p.tsval is not None or p.tsecr is not None for p in pk), "no TCP timestamps at all")
    sf, final, shape = fin_acked_twice(pk, (C4, 40025))
    return [row("lost-final-ack-nots-cli.pcap", "lost-final-ack-nots-cli", C4, 40025, S4, 8025, "SF",
                "lost_final_ack,fin_retransmit", "TIME-WAIT", "CLOSED",
                frames=[(final[0].frame, "anomaly", "lost_final_ack"), (sf[1].frame, "anomaly", "lost_final_ack"),
                        (final[1].frame, "echo", "no_ts")])], \
        (f"no timestamps; server FIN #{sf[0].frame}, final ACK #{final[0].frame}, FIN again #{sf[1].frame} "
         f"after {sf[1].t - sf[0].t:.3f} s, ACK again #{final[1].frame}")


def v_spurious_rto(pk, d):
    cl = (C4, 40026)
    only_stream(pk)
    handshake(pk, cl)
    c, s = split(pk, cl)
    data = [p for p in c if p.len > 0]
    need(len(data) >= 3 and data[-1].seq == data[-2].seq and data[-1].rtx, "the client's last data sent twice")
    orig, rtx = data[-2], data[-1]
    need(rtx.t - orig.t >= 0.2, "resent after the 200 ms minimum RTO")
    a = [p for p in s if acks(p, orig.end_seq)][0]
    need(a.frame > rtx.frame, "the first ACK of it came after the resend")
    need(a.tsecr == orig.tsval and orig.tsval != rtx.tsval,
         "that ACK echoes the first transmission's TSval, not the resend's: the resend was not needed")
    first, shape = close_shape(pk, cl)
    return [row("spurious-rto.pcap", "spurious-rto", C4, 40026, S4, 8026, "SF", "spurious_retransmit", "TIME-WAIT",
                "CLOSED", shape, frames=[(a.frame, "anomaly", "spurious_retransmit"), (a.frame, "echo", "first")])], \
        (f"data #{orig.frame}, again #{rtx.frame} after {rtx.t - orig.t:.3f} s, ACK #{a.frame} "
         f"{a.t - orig.t:.3f} s after the first echoes its TSval {a.tsecr}; {shape}")


def to_last_ack(pk, cl):
    """One connection, closed client first, 4-way up to the server's FIN:
    returns the client's and the server's segments and FINs."""
    only_stream(pk)
    handshake(pk, cl)
    c, s = split(pk, cl)
    cf = [p for p in c if p.has(FIN)]
    sf = [p for p in s if p.has(FIN)]
    need(len(cf) == 1 and sf and cf[0].frame < sf[0].frame, "the client closed first, once")
    need(any(p.flags == ACK and acks(p, cf[0].end_seq) and p.frame < sf[0].frame for p in s),
         "the server ACKed the client's FIN alone (4-way)")
    return c, s, cf, sf


def v_final_ack_unseen(pk, d):
    c, s, cf, sf = to_last_ack(pk, (C4, 40014))
    need(len(sf) >= 3 and len({p.seq for p in sf}) == 1 and all(p.rtx for p in sf[1:]),
         "the server sent the same FIN 3+ times (tshark: retransmissions)")
    need(all(b.t - a.t >= 0.2 for a, b in zip(sf, sf[1:])), "each resent after >= 200 ms (RTO)")
    need(not any(acks(p, sf[0].end_seq) for p in c), "no final ACK reached the capture point")
    return [row("final-ack-unseen.pcap", "final-ack-unseen", C4, 40014, S4, 8014, "SF",
                "lost_final_ack,fin_retransmit", "TIME-WAIT", "LAST-ACK")], \
        (f"client FIN #{cf[0].frame}; server FIN #{sf[0].frame}, resent at "
         + ", ".join(f"+{p.t - sf[0].t:.2f}" for p in sf[1:]) + " s; no ACK of it (dropped at the client's output)")


def echoed(pk, sender, tsecr):
    """The one segment of sender whose TSval is tsecr; None if no segment or
    several carry it (then the echo names none of them)."""
    xs = [p for p in pk if (p.src, p.sport) == sender and p.tsval is not None and p.tsval == tsecr]
    return xs[0] if len(xs) == 1 else None


def fin_resent_then_acked(pk, cl, srv):
    """The server's FIN (LAST-ACK) sent 2+ times, then acknowledged: its
    FINs and the first ACK of it that reached the capture point."""
    c, s, cf, sf = to_last_ack(pk, cl)
    need(len(sf) >= 2 and len({p.seq for p in sf}) == 1 and all(p.rtx for p in sf[1:]),
         "the server sent the same FIN 2+ times (tshark: retransmissions)")
    need(all(b.t - a.t >= 0.2 for a, b in zip(sf, sf[1:])), "each resent after >= 200 ms (RTO)")
    acked = [p for p in c if acks(p, sf[0].end_seq)]
    need(acked and acked[0].frame > sf[-1].frame, "an ACK of it reached the capture point after the last one")
    return c, s, cf, sf, acked[0]


def v_lost_final_ack_srv(pk, d):
    cl, srv = (C4, 40018), (S4, 8018)
    c, s, cf, sf, a = fin_resent_then_acked(pk, cl, srv)
    need(all(p.tsval is not None for p in pk), "TCP timestamps on every segment")
    e = echoed(pk, srv, a.tsecr)
    need(e is sf[0], f"the ACK's TSecr {a.tsecr} is the TSval of the first FIN #{sf[0].frame} and of no other "
                     f"server segment (echoes #{e.frame if e else '-'})")
    frames = f"{a.frame} echo=first;{a.frame} echoed_frame={sf[0].frame};{a.frame} +lost_final_ack;" \
             f"{sf[0].frame} +lost_final_ack"
    return [row("lost-final-ack-srv.pcap", "lost-final-ack-srv", C4, 40018, S4, 8018, "SF",
                "lost_final_ack,fin_retransmit", "TIME-WAIT", "CLOSED", frames=frames)], \
        (f"server FIN #{sf[0].frame} TSval {sf[0].tsval}, resent at "
         + ", ".join(f"+{p.t - sf[0].t:.2f}" for p in sf[1:])
         + f" s; final ACKs dropped at the client's output; ACK #{a.frame} at +{a.t - sf[0].t:.2f} s "
           f"echoes TSval {a.tsecr} = FIN #{sf[0].frame}'s (no other server segment has it)")


def v_lost_final_ack_nots(pk, d):
    cl, srv = (C4, 40019), (S4, 8019)
    c, s, cf, sf, a = fin_resent_then_acked(pk, cl, srv)
    need(not any(p.tsval is not None or p.tsecr is not None for p in pk), "no TCP timestamps at all")
    # The final ACKs were lost (the client's output dropped them), but at the
    # server's vantage and without timestamps nothing shows it: a lost first
    # FIN looks the same. No claim without evidence.
    frames = f"{a.frame} echo=no_ts;{a.frame} -lost_final_ack"
    return [row("lost-final-ack-nots.pcap", "lost-final-ack-nots", C4, 40019, S4, 8019, "SF", "fin_retransmit",
                "TIME-WAIT", "CLOSED", forbid="lost_final_ack", frames=frames)], \
        (f"no timestamps; server FIN #{sf[0].frame} resent at "
         + ", ".join(f"+{p.t - sf[0].t:.2f}" for p in sf[1:])
         + f" s, ACK #{a.frame} at +{a.t - sf[0].t:.2f} s")


def v_lost_first_fin(pk, d):
    cl = (C4, 40020)
    only_stream(pk)
    handshake(pk, cl)
    c, s = split(pk, cl)
    cf = [p for p in c if p.has(FIN)]
    need(len(cf) >= 2 and len({p.seq for p in cf}) == 1 and all(p.rtx for p in cf[1:]),
         "the client sent the same FIN 2+ times (tshark: retransmissions)")
    acked = [p for p in s if acks(p, cf[0].end_seq)]
    need(acked and acked[0].frame > cf[-1].frame, "the server acknowledged the FIN only after the last one")
    a = acked[0]
    need(all(p.tsval is not None for p in pk), "TCP timestamps on every segment")
    e = echoed(pk, cl, a.tsecr)
    need(e is cf[-1], f"the server's ACK #{a.frame} echoes the TSval of the last FIN #{cf[-1].frame} alone "
                      f"(echoes #{e.frame if e else '-'})")
    first, shape = close_shape(pk, cl)
    need(first == "client", "client closed first")
    frames = f"{a.frame} echo=later;{a.frame} echoed_frame={cf[-1].frame};{a.frame} -lost_final_ack"
    return [row("lost-first-fin.pcap", "lost-first-fin", C4, 40020, S4, 8020, "SF", "fin_retransmit",
                "TIME-WAIT", "CLOSED", shape, forbid="lost_final_ack", frames=frames)], \
        (f"client FIN #{cf[0].frame} dropped at the server's input, resent #{cf[-1].frame} after "
         f"{cf[-1].t - cf[0].t:.3f} s; server ACK #{a.frame} echoes its TSval {a.tsecr}; {shape}")


def cut(full, out):
    """Check that the close in FULL completed (the final ACK followed the
    server's single FIN), then write to OUT the frames up to that FIN."""
    pk = read(full)
    cl = (C4, 40011)
    handshake(pk, cl)
    first, shape = close_shape(pk, cl)
    need(first == "client" and shape == "four_way", f"client-first 4-way close (got {first} {shape})")
    c, s = split(pk, cl)
    sf = [p for p in s if p.has(FIN)]
    need(len(sf) == 1, "the server's FIN went out once (its final ACK arrived)")
    need(not any(p.rtx for p in pk), "no retransmission")
    final = [p for p in c if p.frame > sf[0].frame and acks(p, sf[0].end_seq)]
    subprocess.run(["editcap", "-r", full, out, f"1-{sf[0].frame}"], check=True)
    return (f"full capture: server FIN #{sf[0].frame}, final ACK #{final[0].frame} "
            f"{1000 * (final[0].t - sf[0].t):.3f} ms later; kept frames 1-{sf[0].frame}")


def v_capture_cut(pk, d):
    c, s, cf, sf = to_last_ack(pk, (C4, 40011))
    need(len(sf) == 1, "one server FIN")
    need(pk[-1] is sf[0], "the capture ends with the server's FIN")
    need(not any(p.rtx for p in pk), "no retransmission")
    return [row("capture-cut.pcap", "capture-cut", C4, 40011, S4, 8011, "SF", "-", "TIME-WAIT", "LAST-ACK",
                forbid="*")], \
        f"client FIN #{cf[0].frame}, server ACK, server FIN #{sf[0].frame} last; the final ACK is past the cut"


def v_ipv6(pk, d):
    only_stream(pk)
    handshake(pk, (C6, 40012))
    first, shape = close_shape(pk, (C6, 40012))
    c, s = split(pk, (C6, 40012))
    need(any(p.len for p in c) and any(p.len for p in s), "data both ways")
    need(first == "client", "client closed first")
    return [row("ipv6.pcap", "ipv6-normal", C6, 40012, S6, 8012, "SF", "-", "TIME-WAIT", "CLOSED", shape)], shape


def v_port_reuse(pk, d):
    only_stream(pk, 2)
    a = [p for p in pk if p.stream == 0]
    b = [p for p in pk if p.stream == 1]
    for x in (a, b):
        need({(p.src, p.sport) for p in x} == {(C4, 40013), (S4, 8013)}, "same 4-tuple")
        handshake(x, (C4, 40013))
    f1, sh1 = close_shape(a, (C4, 40013))
    f2, sh2 = close_shape(b, (C4, 40013))
    need(f1 == "server", "first connection: server closed first (server TIME-WAIT)")
    need(b[0].t - a[-1].t < 60, "new SYN within the server's 60 s TIME-WAIT")
    need(not seq_le(b[0].seq, a[0].seq), "new ISN above the old one")
    return [row("port-reuse.pcap", "port-reuse-first", C4, 40013, S4, 8013, "SF", "-", "CLOSED", "-", sh1),
            row("port-reuse.pcap", "port-reuse-second", C4, 40013, S4, 8013, "SF", "port_reuse", "TIME-WAIT",
                "CLOSED", sh2)], \
        (f"stream 0 ({sh1}, server first) frames {a[0].frame}-{a[-1].frame}; new SYN #{b[0].frame} "
         f"{b[0].t - a[-1].t:.2f} s later, ISN {b[0].seq} > {a[0].seq}; stream 1 ({sh2})")


def v_tfo(pk, d):
    only_stream(pk)
    c, s = split(pk, (C4, 40017))
    syn, synack = c[0], [p for p in s if p.has(SYN) and p.has(ACK)]
    need(syn.flags & (SYN | ACK) == SYN and syn.len > 0, "the client's SYN carries data (TCP Fast Open)")
    need(synack and synack[0].ack == (syn.seq + 1 + syn.len) % M32,
         "the SYN-ACK acknowledges ISN+1 plus the SYN's data")
    need(not any(p.rtx for p in pk), "no retransmission (the data in the SYN was accepted)")
    first, shape = close_shape(pk, (C4, 40017))
    need(first == "client", "client closed first")
    return [row("tfo.pcap", "tfo", C4, 40017, S4, 8017, "SF", "-", "TIME-WAIT", "CLOSED", shape,
                forbid="handshake_bad_ack")], \
        f"SYN #{syn.frame} with {syn.len} bytes, SYN-ACK #{synack[0].frame} ack=ISN+1+{syn.len}; {shape}"


def fragments_of(pcap):
    """tshark's reassembly: {frame that completed a datagram: [its fragments' frames]}."""
    p = subprocess.run(["tshark", "-r", pcap, "-Y", "ip.fragments", "-T", "fields", "-e", "frame.number",
                        "-e", "ip.fragment"], capture_output=True, text=True, check=True)
    out = {}
    for l in p.stdout.splitlines():
        if l.strip():
            f, frags = l.split("\t")
            out[int(f)] = [int(x) for x in frags.split(",")]
    return out


def v_fragmented_syn(pk, d):
    only_stream(pk)
    c, s = handshake(pk, (C4, 40018))
    frags = fragments_of(os.path.join(d, "fragmented-syn.pcap"))
    syn = c[0]
    need(len(frags.get(syn.frame, [])) >= 2, f"the SYN #{syn.frame} was reassembled from IPv4 fragments")
    sa = [p for p in s if p.has(SYN) and p.has(ACK)][0]
    need(sa.frame > syn.frame and not sa.rtx and sa.frame not in frags,
         "the server's kernel answered the reassembled SYN with one whole SYN-ACK")
    data = [p for p in c if p.len > 0]
    need(data and len(frags.get(data[0].frame, [])) >= 2, "the client's request came in fragments too")
    need(any(p.len > 0 for p in s), "the server replied")
    first, shape = close_shape(pk, (C4, 40018))
    need(first == "client", "client closed first")
    need(not any(p.rtx for p in pk), "no retransmission")
    return [row("fragmented-syn.pcap", "fragmented-syn", C4, 40018, S4, 8018, "SF", "-", "TIME-WAIT", "CLOSED",
                shape)], \
        (f"SYN #{syn.frame} from fragments {frags[syn.frame]}, SYN-ACK #{sa.frame}, request #{data[0].frame} "
         f"from {frags[data[0].frame]}; {shape}")


def v_syn_flood(pk, d):
    sample_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flood-sample.json")
    sample = json.load(open(sample_file))
    syns = [p for p in pk if p.flags == SYN and p.src.startswith("10.98.")]
    need(len(syns) >= 300, f">= 300 spoofed SYNs (got {len(syns)})")
    span = syns[-1].t - syns[0].t
    need(span <= 1.1, f"sent within ~1 s (got {span:.2f})")
    need(len({p.src for p in syns}) == len(syns), "one source address per SYN")
    synacks = [p for p in pk if p.flags == SYN | ACK and p.dst.startswith("10.98.")]
    first_sa = {}
    for p in synacks:
        first_sa.setdefault((p.dst, p.dport), []).append(p)
    retx = [k for k, v in first_sa.items() if len(v) > 1]
    need(not any(p.src.startswith("10.98.") and p.has(ACK) for p in pk), "no spoofed source ever ACKs")
    rows = []
    # three flood connections, picked from what happened: the first SYN (it
    # got a SYN-queue entry: SYN-ACK retransmitted), and from the second half
    # of the flood the first answered with a single (syncookie) SYN-ACK and
    # the first the rate limiter dropped
    picks = {}
    for i, src, sport in sample:
        sas = first_sa.get((src, sport), [])
        kind = "queued" if len(sas) > 1 else "cookie" if sas else "dropped"
        if i == 0:
            need(kind == "queued", "the first flood SYN got a SYN-queue entry (retransmitted SYN-ACK)")
        if i == 0 or i >= len(sample) // 2:   # the other two from the flood's second half
            picks.setdefault(kind, (i, src, sport, sas))
    for kind in ("queued", "cookie", "dropped"):
        if kind not in picks:
            continue
        i, src, sport, sas = picks[kind]
        if sas:
            an = "syn_flood,half_open" + (",synack_retransmit" if len(sas) > 1 else "")
            rows.append(row("syn-flood.pcap", f"syn-flood-spoofed-{i}-{kind}", src, sport, S4, 8080, "S1", an,
                            "unknown", "SYN-RECEIVED"))
        else:
            rows.append(row("syn-flood.pcap", f"syn-flood-spoofed-{i}-{kind}", src, sport, S4, 8080, "S0",
                            "syn_flood,syn_unanswered", "-", "unknown"))
    need(len(picks) == 3, "the flood has queued, cookie-answered and unanswered SYNs")
    legit = 0
    for port in (40111, 40112, 40113, 40114):
        x = [p for p in pk if (p.src, p.sport) == (C4, port) or (p.dst, p.dport) == (C4, port)]
        handshake(x, (C4, port))
        first, shape = close_shape(x, (C4, port))
        need(first == "client", "legit client closes first")
        legit += 1
        rows.append(row("syn-flood.pcap", f"syn-flood-legit-{port}", C4, port, S4, 8080, "SF", "-",
                        "TIME-WAIT", "CLOSED", shape))
    lsyn = sum(1 for p in pk if p.flags == SYN and p.src == C4)
    return rows, (f"{len(syns)} spoofed SYNs in {span:.2f} s from {len({p.src for p in syns})} sources, "
                  f"{len(first_sa)} answered ({len(retx)} with retransmitted SYN-ACKs = the SYN queue of "
                  f"listen(16); the others got one syncookie SYN-ACK), {len(syns) - len(first_sa)} unanswered "
                  f"(rate limiter), none ACKed; {legit} legitimate connections complete ({lsyn} SYNs for 4); "
                  f"picked {', '.join(f'{k} #{v[0]}' for k, v in picks.items())}")


def v_stale_reconnect(pk, d):
    cl = (C4, 40018)
    c, s = split(pk, cl)
    syn, chal, rst = pk[0], pk[1], pk[2]
    need(syn in c and syn.flags == SYN, "first a SYN from the client")
    need(chal in s and chal.flags == ACK and chal.ack != (syn.seq + 1) % M32,
         "the server answers with a plain ACK not acking the SYN (challenge ACK, old numbers)")
    need(rst in c and rst.flags == RST and rst.seq == chal.ack, "the client resets it: RST, seq = that ACK, no ACK bit")
    rest = pk[3:]
    need(rest and rest[0] in c and rest[0].flags == SYN and rest[0].seq == syn.seq,
         "then the client sends the same SYN again (it stayed SYN-SENT)")
    handshake([syn] + rest, cl)
    first, shape = close_shape(rest, cl)
    need(first == "client", "client closed first")
    # Wireshark 4.4 (our default rules) opens a new tcp.stream at the SYN
    # after the RST: two connections, the attempt and the one that worked
    later = [(p.frame, "not_anomaly", "after_close") for p in rest]
    return [row("stale-reconnect.pcap", "stale-reconnect-attempt", C4, 40018, S4, 8018, "-",
                "handshake_bad_ack,stale_connection", "SYN-SENT", "CLOSED", forbid="handshake_reset,refused,after_close",
                frames=[(chal.frame, "anomaly", "handshake_bad_ack"), (rst.frame, "anomaly", "stale_connection"),
                        (rst.frame, "orig_state", "SYN-SENT")]),
            row("stale-reconnect.pcap", "stale-reconnect-new", C4, 40018, S4, 8018, "SF", "-", "TIME-WAIT", "CLOSED",
                shape, forbid="after_close,port_reuse,handshake_reset,handshake_bad_ack", frames=later)], \
        (f"SYN #{syn.frame}, challenge ACK #{chal.frame} ack={chal.ack} (SYN seq+1 = {(syn.seq + 1) % M32}), "
         f"RST #{rst.frame} seq={rst.seq}, SYN again #{rest[0].frame} {rest[0].t - syn.t:.3f} s later; {shape}")


def lost_handshake_ack(pk, cl, srv, client_side):
    only_stream(pk)
    c, s = split(pk, cl)
    sa = [p for p in s if p.flags == SYN | ACK]
    need(len(sa) == 2 and sa[0].seq == sa[1].seq and sa[1].rtx, "the server sent its SYN-ACK twice")
    need(sa[1].t - sa[0].t >= 0.9, "the second after its 1 s SYN-ACK timer")
    hs_acks = [p for p in c if p.flags == ACK and p.ack == (sa[0].seq + 1) % M32 and p.len == 0
               and p.frame < min([q.frame for q in s if q.len] or [1 << 30])]
    greet = [p for p in s if p.len][0]
    need(greet.frame > sa[1].frame, "the server's greeting came only after its second SYN-ACK")
    if client_side:
        need(len(hs_acks) == 2 and hs_acks[0].frame < sa[1].frame < hs_acks[1].frame,
             "the client's ACK, the SYN-ACK again, the ACK again")
    else:
        need(len(hs_acks) == 1 and hs_acks[0].frame > sa[1].frame, "at the server only the second ACK arrived")
    first, shape = close_shape(pk, cl)
    # the client keeps the TSval of the SYN-ACK that established it, so the
    # ACK that answers the SYN-ACK sent again echoes the first one
    a = hs_acks[-1]
    need(all(p.tsval is not None for p in pk), "TCP timestamps on every segment")
    e = echoed(pk, srv, a.tsecr)
    need(e is sa[0], f"ACK #{a.frame} echoes the TSval of the first SYN-ACK #{sa[0].frame} alone")
    return sa, hs_acks, shape


def v_lost_handshake_ack_cli(pk, d):
    cl = (C4, 40019)
    sa, acks_, shape = lost_handshake_ack(pk, cl, (S4, 8019), True)
    return [row("lost-handshake-ack-cli.pcap", "lost-handshake-ack-cli", C4, 40019, S4, 8019, "SF",
                "lost_handshake_ack,synack_retransmit", "TIME-WAIT", "CLOSED", shape,
                frames=[(acks_[0].frame, "anomaly", "lost_handshake_ack"), (acks_[0].frame, "resp_state", "SYN-RECEIVED"),
                        (sa[1].frame, "resp_state", "SYN-RECEIVED"), (acks_[1].frame, "resp_state", "ESTABLISHED"),
                        (acks_[1].frame, "echo", "first"), (acks_[1].frame, "echoed_frame", sa[0].frame)])], \
        (f"ACK #{acks_[0].frame} (dropped at the server's input), SYN-ACK again #{sa[1].frame} "
         f"{sa[1].t - acks_[0].t:.3f} s later, ACK again #{acks_[1].frame}; {shape}")


def v_lost_handshake_ack_srv(pk, d):
    cl = (C4, 40021)
    sa, acks_, shape = lost_handshake_ack(pk, cl, (S4, 8021), False)
    # at the server the two losses look alike without timestamps (a lost
    # SYN-ACK or a lost ACK); the ACK's echo of the first SYN-ACK proves that
    # one arrived, so the client's answer to it was lost
    return [row("lost-handshake-ack-srv.pcap", "lost-handshake-ack-srv", C4, 40021, S4, 8021, "SF",
                "synack_retransmit,lost_handshake_ack", "TIME-WAIT", "CLOSED", shape,
                frames=[(sa[1].frame, "resp_state", "SYN-RECEIVED"), (sa[1].frame, "orig_state", "ESTABLISHED"),
                        (sa[1].frame, "anomaly", "lost_handshake_ack"),
                        (acks_[0].frame, "resp_state", "ESTABLISHED"), (acks_[0].frame, "anomaly", "lost_handshake_ack"),
                        (acks_[0].frame, "echo", "first"), (acks_[0].frame, "echoed_frame", sa[0].frame)])], \
        f"SYN-ACK #{sa[0].frame}, again #{sa[1].frame} (the first ACK died at the client's output), ACK #{acks_[0].frame}; {shape}"


def v_peer_crash(pk, d):
    only_stream(pk)
    cl = (C4, 40020)
    handshake(pk, cl)
    c, s = split(pk, cl)
    need(not any(p.has(FIN) for p in pk), "no FIN")
    r = [p for p in pk if p.has(RST)]
    need(len(r) == 1 and r[0] is pk[-1] and r[0] in s, "one RST, from the server, last")
    prev = pk[-2]
    need(prev in c and prev.len > 0, "it answers the client's data")
    need(r[0].flags == RST and r[0].seq == prev.ack, "RST without ACK, seq = the data's ACK (no socket)")
    need(prev.t - max(p.t for p in s if p is not r[0]) > 0.5, "the server was silent before (it had lost the connection)")
    return [row("peer-crash.pcap", "peer-crash", C4, 40020, S4, 8020, "RSTR", "reset_no_connection", "CLOSED", "CLOSED",
                forbid="reset_abort", frames=[(r[0].frame, "anomaly", "reset_no_connection")])], \
        f"data #{prev.frame} after {prev.t - pk[-3].t:.2f} s of silence, RST #{r[0].frame} seq={r[0].seq} = its ACK"


def v_backlog_full(pk, d):
    f = [p for p in pk if (C4, 40023) in ((p.src, p.sport), (p.dst, p.dport))]
    x = [p for p in pk if (p.src, p.sport) == (C4, 40022) or (p.dst, p.dport) == (C4, 40022)]
    handshake(f, (C4, 40023))
    need(all(p.flags == SYN and p.src == C4 for p in x), "only SYNs from the second client")
    need(len(x) >= 3 and len({p.seq for p in x}) == 1, ">= 3 SYNs, same ISN")
    need(x[0].frame > f[2].frame, "sent once the first connection filled the accept queue")
    return [row("backlog-full.pcap", "backlog-full", C4, 40022, S4, 8022, "S0", "syn_unanswered,syn_retransmit",
                "SYN-SENT", "unknown", frames=[(p.frame, "resp_state", "unknown") for p in x])], \
        f"filler connection open; SYNs from 40022 at +" + ", +".join("%.2f" % (p.t - x[0].t) for p in x) + " s, unanswered"


def v_syn_retries_long(pk, d):
    only_stream(pk)
    need(all(p.flags == SYN and (p.src, p.sport) == (C4, 40024) for p in pk), "only SYNs from the client")
    need(len({p.seq for p in pk}) == 1, "one ISN: retransmissions of one attempt")
    gaps = [b.t - a.t for a, b in zip(pk, pk[1:])]
    need(len(pk) == 7 and max(gaps) > 30, f"7 SYNs with a gap of more than 30 s (got {len(pk)}, max gap {max(gaps):.1f} s)")
    # one attempt, one tcp.stream: tcpphase must not split it on its idle timer
    return [row("syn-retries-long.pcap", "syn-retries-long", C4, 40024, S4, 8023, "S0", "syn_unanswered,syn_retransmit",
                "SYN-SENT", "unknown", frames=[(p.frame, "not_anomaly", "port_reuse") for p in pk])], \
        "SYNs at +" + ", +".join("%.1f" % (p.t - pk[0].t) for p in pk) + " s"


SCENARIOS = {
    "close-client-first": v_close_client_first,
    "close-server-first": v_close_server_first,
    "three-segment": v_three_segment,
    "simultaneous-close": v_simultaneous_close,
    "half-close": v_half_close,
    "reset-by-client": v_reset_by_client,
    "reset-by-server": v_reset_by_server,
    "refused": v_refused,
    "syn-unanswered": v_syn_unanswered,
    "half-open": v_half_open,
    "lost-final-ack": v_lost_final_ack,
    "final-ack-unseen": v_final_ack_unseen,
    "capture-cut": v_capture_cut,
    "syn-flood": v_syn_flood,
    "ipv6": v_ipv6,
    "port-reuse": v_port_reuse,
    "tfo": v_tfo,
    "stale-reconnect": v_stale_reconnect,
    "lost-handshake-ack-cli": v_lost_handshake_ack_cli,
    "lost-handshake-ack-srv": v_lost_handshake_ack_srv,
    "peer-crash": v_peer_crash,
    "backlog-full": v_backlog_full,
    "fragmented-syn": v_fragmented_syn,
    "lost-final-ack-srv": v_lost_final_ack_srv,
    "lost-final-ack-nots": v_lost_final_ack_nots,
    "lost-first-fin": v_lost_first_fin,
    "syn-retries-long": v_syn_retries_long,
    "lost-final-ack-nots-cli": v_lost_final_ack_nots_cli,
    "spurious-rto": v_spurious_rto,
}

COLS = ["pcap", "scenario", "orig_h", "orig_p", "resp_h", "resp_p", "expect_conn_state", "expect_anomalies",
        "expect_orig_final", "expect_resp_final", "forbid_anomalies", "expect_frames"]


def check(name, pcap, d):
    pk = read(pcap)
    try:
        rows, info = SCENARIOS[name](pk, d)
    except Fail as e:
        print(f"verify: {name}: FAILED: {e}", file=sys.stderr)
        for p in pk[:40]:
            print("   ", p, file=sys.stderr)
        return None
    print(f"verify: {name}: ok, {len(pk)} frames: {info}")
    return rows


def main():
    cmd = sys.argv[1]
    if cmd == "check":
        name, pcap = sys.argv[2], sys.argv[3]
        d = os.path.dirname(os.path.abspath(pcap))
        sys.exit(0 if check(name, pcap, d) is not None else 1)
    if cmd == "cut":
        try:
            print(f"verify: capture-cut: {cut(sys.argv[2], sys.argv[3])}")
        except Fail as e:
            print(f"verify: capture-cut (full capture): FAILED: {e}", file=sys.stderr)
            sys.exit(1)
        return
    if cmd == "show":
        for p in read(sys.argv[2]):
            print(p)
        return
    if cmd == "expected":
        d = sys.argv[2]
        out, bad = [], []
        for name in SCENARIOS:
            pcap = os.path.join(d, name + ".pcap")
            if not os.path.exists(pcap):
                print(f"verify: {name}: {pcap} missing, its rows left out", file=sys.stderr)
                continue
            rows = check(name, pcap, d)
            if rows is None:
                bad.append(name)
            else:
                out += rows
        if bad:
            print("verify: not writing expected.tsv; failed: " + ", ".join(bad), file=sys.stderr)
            sys.exit(1)
        with open(os.path.join(d, "expected.tsv"), "w") as f:
            f.write("\t".join(COLS) + "\n")
            for r in out:
                f.write("\t".join(str(r[c]) for c in COLS) + "\n")
        print(f"verify: wrote {len(out)} rows to {os.path.join(d, 'expected.tsv')}")
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
