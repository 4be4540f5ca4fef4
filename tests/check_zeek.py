#!/usr/bin/env python3
"""Agreement with Zeek on Zeek's own regression traces.

For every TCP connection that Zeek logged on the traces in
test-captures/zeek/ (expected.tsv: Zeek's baseline conn.log rows, copied from
../shared/corpus/zeek), run tcpphase with the same settings Zeek ran with
(-b: bare-mode likely-server ports; -C: checksums ignored, else verified) and
compare conn_state (asserted: every row that has one must agree) and history
(reported in the table; letters that need payload reassembly are listed in
KNOWN_HISTORY with the reason).

Connections are matched by their two endpoints regardless of direction (a
different originator guess must show up as a history/conn_state mismatch,
not as a missing connection); several connections on one 4-tuple are
compared as multisets in order of appearance.

usage: check_zeek.py TCPPHASE_BINARY ZEEK_DIR
"""
import collections
import ipaddress
import json
import os
import subprocess
import sys

# Zeek's likely_server_ports come from the protocol scripts it loaded (each
# registers its ports). A `zeek -b` test loads only what it names: the
# protocol of a scripts.base.protocols.<proto>.* test, and for the core tests
# below what their baselines show (Teredo diffs http.log, so it loads http).
PROTO_PORTS = {
    "ftp": [21, 2811], "http": [80, 81, 631, 1080, 3128, 8000, 8080, 8888], "krb": [88],
    "modbus": [502], "mysql": [1434, 3306], "postgresql": [5432], "smtp": [25, 587], "ssh": [22],
    "syslog": [514], "irc": [6666, 6667, 6668, 6669], "websocket": [], "gnutella": [],
}
BARE_TEST_LOADS = {"core.tunnels.teredo": ["http"]}


def bare_ports(test):
    protos = BARE_TEST_LOADS.get(test, [])
    parts = test.split(".")
    if parts[:3] == ["scripts", "base", "protocols"]:
        protos = [parts[3]]
    return sorted(p for proto in protos for p in PROTO_PORTS[proto])


# History letters that Zeek takes from layers above TCP segments, which a
# segment-level analyzer does not run (README, "Agreement"). A history that
# equals Zeek's once these letters are removed is reported as a known
# difference, each with its reason; any other difference fails.
KNOWN_HISTORY = {
    "G": "content gap: Zeek's stream reassembler saw acknowledged bytes it never captured",
    "g": "content gap: Zeek's stream reassembler saw acknowledged bytes it never captured",
    "X": "Zeek's protocol analyzer gave up on the payload (a limit or a parse failure)",
}

# Rows where Zeek's own scripts stopped TCP analysis, so the baseline does
# not describe the packets; named with the reason, never silently skipped.
KNOWN_CONN = {
    ("globus-url-copy.pcap", "192.168.57.103", "35391"):
        "GridFTP data channel: Zeek's gridftp.zeek calls skip_further_processing() on it, so "
        "the FINs that follow are never seen (Zeek logs S1/ShADad; the packets show a full close, SF/ShADadfF)",
}


def strip_known(history):
    return "".join(ch for ch in history if ch not in KNOWN_HISTORY)


def norm(addr):
    try:
        return str(ipaddress.ip_address(addr))
    except ValueError:
        return addr


def key(oh, op, rh, rp):
    return frozenset([(norm(oh), int(op)), (norm(rh), int(rp))])


def run(binary, trace, flags, test):
    cmd = [binary, "-r", trace, "-F", "json", "--no-summary", "--split", "zeek"]
    if "-b" in flags.split():
        cmd.append("--zeek-server-ports=" + ",".join(map(str, bare_ports(test))))
    if "-C" not in flags.split():
        cmd += ["--checksums", "verify"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 3):
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    conns = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return [c for c in conns if c["type"] == "conn"]


def main():
    binary, zdir = sys.argv[1], sys.argv[2]
    rows = []
    with open(os.path.join(zdir, "expected.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        seen = set()
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            if not r["proto"].startswith("tcp"):
                continue
            flags = " ".join(x for x in r["flags"].split() if x in ("-b", "-C"))
            ident = (r["trace"], flags, r["test"], r["uid"], r["orig_h"], r["orig_p"], r["resp_h"], r["resp_p"])
            if ident in seen:
                continue
            seen.add(ident)
            r["flags"] = flags
            rows.append(r)

    # one run per (trace, settings); within a Zeek test, rows keep log order
    by_run = collections.defaultdict(list)
    for r in rows:
        by_run[(r["trace"], r["flags"], r["test"])].append(r)

    cs_total = cs_ok = h_total = h_ok = h_known = 0
    per_state = collections.defaultdict(lambda: [0, 0])
    per_trace = {}
    failures, known_diffs = [], []
    cache = {}
    for (trace, flags, test), exp in sorted(by_run.items()):
        ck = (trace, flags, tuple(bare_ports(test)) if "-b" in flags.split() else None)
        if ck not in cache:
            cache[ck] = run(binary, os.path.join(zdir, trace), flags, test)
        ours = cache[ck]
        pool = collections.defaultdict(list)
        for c in ours:
            pool[key(c["id.orig_h"], c["id.orig_p"], c["id.resp_h"], c["id.resp_p"])].append(c)
        used = collections.Counter()
        t_ok = t_total = 0
        # Rows whose baseline kept no tuple at all: as many as our connections,
        # compared as a multiset (sorted by history on both sides).
        bare_rows = [r for r in exp if r["orig_h"] == "-" and r["orig_p"] == "-" and r["resp_p"] == "-"]
        bare_ours = sorted(ours, key=lambda c: (c["history"], c["conn_state"])) \
            if len(bare_rows) == len(ours) else []
        bare_rows.sort(key=lambda r: (r["history"], r["conn_state"]))
        bare_match = {id(r): (bare_ours[i] if bare_ours else None) for i, r in enumerate(bare_rows)}
        for r in exp:
            if id(r) in bare_match:
                cands, k = [bare_match[id(r)]] if bare_match[id(r)] else [], ("bare", id(r))
            elif r["orig_h"] == "-" or r["orig_p"] == "-":
                # the baseline kept part of the tuple: match on it, which must pick one connection
                cands = [c for c in ours if r["orig_h"] in ("-", norm(c["id.orig_h"]), norm(c["id.resp_h"]))
                         and r["resp_p"] in ("-", str(c["id.resp_p"]), str(c["id.orig_p"]))]
                cands = cands if len(cands) == 1 else []
                k = None
            else:
                k = key(r["orig_h"], r["orig_p"], r["resp_h"], r["resp_p"])
                cands = pool.get(k, [])
            i = used[k]
            used[k] += 1
            c = cands[i] if i < len(cands) else None
            where = f"{trace} [{test} {flags}] {r['orig_h']}:{r['orig_p']} -> {r['resp_h']}:{r['resp_p']}"
            known = KNOWN_CONN.get((trace, r["orig_h"], r["orig_p"]))
            if known:
                known_diffs.append(f"{where}: Zeek {r['conn_state']}/{r['history']}, ours "
                                   f"{c['conn_state'] if c else '-'}/{c['history'] if c else '-'}: {known}")
                continue
            if r["conn_state"] != "-":
                cs_total += 1
                t_total += 1
                per_state[r["conn_state"]][1] += 1
                got = c["conn_state"] if c else "(connection not found)"
                if got == r["conn_state"]:
                    cs_ok += 1
                    t_ok += 1
                    per_state[r["conn_state"]][0] += 1
                else:
                    failures.append(f"{where}: conn_state zeek={r['conn_state']} ours={got}"
                                    f" (zeek history {r['history']}, ours {c['history'] if c else '-'})")
            if r["history"] != "-":
                h_total += 1
                got = c["history"] if c else "(connection not found)"
                if got == r["history"]:
                    h_ok += 1
                elif c and got == strip_known(r["history"]):
                    h_known += 1
                    letters = sorted(set(r["history"]) - set(strip_known(r["history"])))
                    known_diffs.append(f"{where}: history zeek={r['history']} ours={got}: "
                                       + "; ".join(f"{l}: {KNOWN_HISTORY[l]}" for l in letters))
                else:
                    failures.append(f"{where}: history zeek={r['history']} ours={got}")
        per_trace[f"{trace} {flags}".strip()] = (t_ok, t_total)

    print("conn_state agreement by Zeek value:")
    for st in sorted(per_state):
        ok, n = per_state[st]
        print(f"  {st:7s} {ok:3d}/{n:<3d}")
    print("by trace (conn_state):")
    for t in sorted(per_trace):
        ok, n = per_trace[t]
        if n:
            print(f"  {ok:3d}/{n:<3d} {t}")
    print(f"conn_state: {cs_ok}/{cs_total} equal")
    print(f"history:    {h_ok}/{h_total} equal, {h_known} equal apart from known letters")
    print(f"known differences ({len(known_diffs)}):")
    for d in known_diffs:
        print("  known: " + d)
    for fl in failures:
        print("FAIL " + fl)
    if failures or cs_total == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
