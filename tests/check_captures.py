#!/usr/bin/env python3
"""The CLI on real Linux TCP captures, against what each scenario provoked.

test-captures/make-captures.sh ran real client and server sockets in network
namespaces and provoked each behaviour (nftables drops, SO_LINGER, shutdown,
a spoofed SYN flood, ...). expected.tsv says, per connection, what that
implies: Zeek's conn_state, the anomalies that must be reported (and those
that must not, where the scenario rules them out), both endpoints' final
RFC 9293 states, and (expect_frames) what single segments must show: an
anomaly on a given frame or not, the states after it, and which
transmission an ACK's TCP timestamp echoes (echo, echoed_frame). Those
expectations come from the script and from what the kernel did (checked
with tshark), never from tcpphase.

The comparison with tshark's tcp.stream and tcp.completeness, for these
captures and the Zeek traces alike, is check_wireshark.py.

usage: check_captures.py TCPPHASE_BINARY TEST_CAPTURES_DIR
"""
import collections
import ipaddress
import json
import os
import subprocess
import sys
from tputil import check, finish


def norm(a):
    return str(ipaddress.ip_address(a))


def tuple_key(oh, op, rh, rp):
    return (norm(oh), int(op), norm(rh), int(rp))


def run_cli(binary, pcap):
    p = subprocess.run([binary, "-r", pcap, "-F", "json", "--segments", "--conns", "--no-summary"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: tcpphase -r {pcap} exited {p.returncode}: {p.stderr}")
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return recs


def check_frames(name, spec, segs):
    """What single segments must show: FRAME:KEY=VALUE;... (verify.py's row())."""
    if spec in ("-", ""):
        return
    by_frame = {x["frame"]: x for x in segs}
    for item in spec.split(";"):
        where, what = item.split(":", 1)
        key, val = what.split("=", 1)
        v = by_frame.get(int(where))
        if v is None:
            check(False, f"{name}: frame {where} is a segment of the connection")
            continue
        if key == "anomaly":
            check(val in v["anomalies"], f"{name}: frame {where} reports {val} (got {v['anomalies']})")
        elif key == "not_anomaly":
            check(val not in v["anomalies"], f"{name}: frame {where} does not report {val}")
        else:
            got = str(v.get(key, ""))
            check(got == val, f"{name}: frame {where} {key} {got or '-'} (expected {val})")


def main():
    binary, caps = sys.argv[1], sys.argv[2]
    rows = []
    with open(os.path.join(caps, "expected.tsv")) as f:
        header = f.readline().lstrip("#").rstrip("\n").split("\t")
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    check(len(rows) >= 12, f"{len(rows)} provoked connections listed in expected.tsv")
    by_pcap = collections.defaultdict(list)
    for r in rows:
        by_pcap[r["pcap"]].append(r)

    for pcap, exp in sorted(by_pcap.items()):
        path = os.path.join(caps, pcap)
        recs = run_cli(binary, path)
        conns = [r for r in recs if r["type"] == "conn"]
        segs = [r for r in recs if r["type"] == "segment"]
        # Streamed (--segments alone: each written once settled, after every
        # segment in the sanitizer build) they must be what they are when
        # held to the end: no amendment may come after a record was written.
        p = subprocess.run([binary, "-r", path, "-F", "json", "--segments", "--no-summary"],
                           capture_output=True, text=True)
        streamed = [r for r in (json.loads(l) for l in p.stdout.splitlines() if l.strip()) if r["type"] == "segment"]
        check(p.returncode == 0 and streamed == segs,
              f"{pcap}: streamed segment records equal the held ones (exit {p.returncode}{p.stderr[-200:]})")
        pool = collections.defaultdict(list)
        for c in conns:
            pool[tuple_key(c["id.orig_h"], c["id.orig_p"], c["id.resp_h"], c["id.resp_p"])].append(c)
        used = collections.Counter()
        for r in exp:
            k = tuple_key(r["orig_h"], r["orig_p"], r["resp_h"], r["resp_p"])
            i = used[k]
            used[k] += 1
            c = pool[k][i] if i < len(pool[k]) else None
            name = f"{pcap} {r['scenario']} {r['orig_h']}:{r['orig_p']}->{r['resp_h']}:{r['resp_p']}"
            if c is None:
                check(False, f"{name}: connection found with this originator")
                continue
            if r["expect_conn_state"] != "-":
                check(c["conn_state"] == r["expect_conn_state"],
                      f"{name}: conn_state {c['conn_state']} (expected {r['expect_conn_state']})")
            want = set() if r["expect_anomalies"] in ("-", "") else set(r["expect_anomalies"].split(","))
            got = set(c["anomalies"])
            check(want <= got, f"{name}: anomalies {sorted(got)} include {sorted(want)}")
            forbid = r.get("forbid_anomalies", "-")
            if forbid == "*":
                check(not got, f"{name}: no anomaly reported (got {sorted(got)})")
            elif forbid not in ("-", ""):
                bad = got & set(forbid.split(","))
                check(not bad, f"{name}: none of {forbid} reported (got {sorted(bad)})")
            # every anomaly of the record sits on at least one of its segments
            seg_an = set(a for s in segs if s["uid"] == c["uid"] for a in s["anomalies"])
            check(want <= seg_an, f"{name}: the expected anomalies appear on segments too")
            for side in ("orig", "resp"):
                e = r[f"expect_{side}_final"]
                if e != "-":
                    check(c[f"{side}_state"] == e, f"{name}: final {side} state {c[side + '_state']} (expected {e})")
            check_frames(name, r.get("expect_frames", "-"), [s for s in segs if s["uid"] == c["uid"]])

    finish("all capture checks passed")


if __name__ == "__main__":
    main()
