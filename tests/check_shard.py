#!/usr/bin/env python3
"""--shard K/N: N processes, each with its share of the connections, together
say exactly what one process says about the whole capture.

For every capture in TEST_CAPTURES_DIR (subfolders too) and N in 2, 3: the
multiset union of the N shards' connection and segment records (JSON) equals
the unsharded run's, and the shards' summaries add up to it (connections,
segments; each segment analysed by exactly one shard).

The one named difference: SYN flood detection. A flood is many SYNs toward
one server from many sources; a shard sees only its share of them, so a
shard can miss a flood the whole capture shows (README: "Scale past one
machine"). On captures with a flood alert the test compares everything but
the alerts and the syn_flood anomaly, and says so.

usage: check_shard.py TCPPHASE_BINARY TEST_CAPTURES_DIR
"""
import collections
import glob
import json
import os
import subprocess
import sys
from tputil import check, finish


def run(binary, pcap, extra):
    p = subprocess.run([binary, "-r", pcap, "-F", "json", "--segments", "--conns"] + extra,
                       capture_output=True, text=True)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, recs


def canon(recs, drop_flood):
    out = collections.Counter()
    for r in recs:
        if r["type"] not in ("conn", "segment"):
            continue
        if drop_flood:
            r = dict(r, anomalies=[a for a in r["anomalies"] if a != "syn_flood"])
        out[json.dumps(r, sort_keys=True)] += 1
    return out


def main():
    binary, caps = sys.argv[1], sys.argv[2]
    pcaps = sorted(glob.glob(os.path.join(caps, "**", "*.pcap*"), recursive=True))
    check(len(pcaps) > 50, f"{len(pcaps)} captures")
    for pcap in pcaps:
        name = os.path.relpath(pcap, caps)
        rc, whole = run(binary, pcap, [])
        summ = whole[-1]
        floods = [r for r in whole if r["type"] == "alert"]
        for n in (2, 3):
            parts = [run(binary, pcap, ["--shard", f"{k}/{n}"]) for k in range(n)]
            if not check(all(p[0] == rc for p in parts), f"{name} N={n}: every shard exits {rc} as the whole run"):
                continue
            union = collections.Counter()
            for _, recs in parts:
                union += canon(recs, bool(floods))
            same = union == canon(whole, bool(floods))
            ss = [recs[-1] for _, recs in parts]
            adds = (sum(s["connections"] for s in ss) == summ["connections"]
                    and sum(s["segments"] for s in ss) == summ["segments"]
                    and all(s["segments"] + s["other_shard"] == summ["segments"] for s in ss)
                    and all(s["shard"] == f"{k}/{n}" for k, s in enumerate(ss)))
            note = " (flood alerts and syn_flood marks left out: a shard sees a share of the SYNs)" if floods else ""
            check(same and adds, f"{name} N={n}: union of the shards == the whole run{note}"
                  + ("" if same else f"; {sum((union - canon(whole, bool(floods))).values())} extra, "
                     f"{sum((canon(whole, bool(floods)) - union).values())} missing record(s)")
                  + ("" if adds else "; summaries do not add up"))
    finish("all shard checks passed")


if __name__ == "__main__":
    main()
