#!/usr/bin/env python3
"""Agreement with Wireshark on every test capture.

For each capture under test-captures/ (the Linux captures and the Zeek
traces), compares, connection by connection:
  - our connection split with tshark's tcp.stream (the same frames in each);
  - our completeness bitmask with tshark's tcp.completeness as `tshark -2`
    (and the GUI) shows it on the stream's last frame.
Prints an agreement table per capture. A difference fails unless it is a
named known difference below, with its reason; a known difference that no
longer occurs fails too, so the list cannot go stale.

usage: check_wireshark.py TCPPHASE_BINARY TEST_CAPTURES_DIR
"""
import collections
import glob
import json
import os
import subprocess
import sys

from tputil import tshark_series

# (capture, stream or "extra") -> reason, for every Wireshark series
KNOWN = {
    ("tunnels__gre-aruba-amsdu.pcap", 0):
        "the frame is an 802.11 A-MSDU carrying two TCP segments; the CLI analyses one segment per "
        "packet (the first subframe)",
    ("tunnels__Teredo.pcap", "extra"):
        "Teredo between relay ports other than 3544: Zeek and the CLI detect it, Wireshark does not, "
        "so the IPv6 connection inside has no tcp.stream",
}
# ... and for one series only
KNOWN_IN = {
    "4.0": {
        ("ftp__ipv6.pcap", 1): "FTP data connection: Wireshark 4.0's FTP dissector creates its conversation "
                               "from the EPSV reply before the SYN, so tcp.completeness never gets the SYN "
                               "bit (4.4 sets it: Wireshark issue 19092)",
        ("ftp__ipv6.pcap", 2): "as stream 1 (FTP data connection announced by EPSV)",
        ("ftp__ipv6.pcap", 3): "as stream 1 (FTP data connection announced by EPSV)",
    },
}


def ours(binary, pcap, series):
    p = subprocess.run([binary, "-r", pcap, "-F", "json", "--segments", "--conns", "--no-summary",
                        "--wireshark", series],
                       capture_output=True, text=True)
    if p.returncode not in (0, 3):  # 3: a damaged capture, reported; anything else is a crash
        raise SystemExit(f"FAIL: tcpphase -r {pcap} exited {p.returncode}: {p.stderr[-2000:]}")
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    frames = collections.defaultdict(list)
    for r in recs:
        if r["type"] == "segment":
            frames[r["uid"]].append(r["frame"])
    comp = {r["uid"]: r["completeness"] for r in recs if r["type"] == "conn"}
    return frames, comp


def tshark(pcap):
    p = subprocess.run(["tshark", "-2", "-r", pcap, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields",
                        "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.completeness"],
                       capture_output=True, text=True)
    streams = collections.OrderedDict()
    for line in p.stdout.splitlines():
        fr, st, comp = (line.split("\t") + ["", ""])[:3]
        for i, sid in enumerate(st.split(",")):  # a frame may carry several TCP headers
            s = streams.setdefault(int(sid), {"frames": [], "comp": 0})
            s["frames"].append(int(fr))
            s["comp"] = int((comp.split(",") + ["0"])[min(i, len(comp.split(",")) - 1)] or 0)
    return streams


def main():
    binary, caps = sys.argv[1], sys.argv[2]
    series = tshark_series()
    if series is None:
        raise SystemExit("FAIL: tshark is not installed, or its version cannot be read")
    KNOWN.update(KNOWN_IN.get(series, {}))
    print(f"against tshark {series}: tcpphase --wireshark {series}")
    files = sorted(glob.glob(os.path.join(caps, "*.pcap*")) + glob.glob(os.path.join(caps, "zeek", "*.pcap*")))
    failures, known_seen = [], set()
    tot = split_ok = comp_ok = 0
    print(f"{'capture':45s} {'streams':>7s} {'split':>6s} {'compl':>6s}")
    for pcap in files:
        name = os.path.basename(pcap)
        frames, comp = ours(binary, pcap, series)
        by_frames = {tuple(sorted(v)): k for k, v in frames.items()}
        ts = tshark(pcap)
        s_ok = c_ok = 0
        matched = set()
        for sid, st in ts.items():
            uid = by_frames.get(tuple(st["frames"]))
            reason = KNOWN.get((name, sid))
            if uid is None:
                if reason:
                    known_seen.add((name, sid))
                    print(f"  known: {name} stream {sid}: split differs: {reason}")
                else:
                    failures.append(f"{name}: tcp.stream {sid} (frames {st['frames'][:8]}) is not one of our connections")
                continue
            matched.add(uid)
            s_ok += 1
            if comp[uid] == st["comp"]:
                c_ok += 1
            elif reason:
                known_seen.add((name, sid))
                print(f"  known: {name} stream {sid}: completeness ours={comp[uid]} tshark={st['comp']}: {reason}")
            else:
                failures.append(f"{name}: tcp.stream {sid} completeness ours={comp[uid]} tshark={st['comp']}")
        unmatched = [u for u in frames if u not in matched]
        if unmatched:
            reason = KNOWN.get((name, "extra"))
            if reason:
                known_seen.add((name, "extra"))
                print(f"  known: {name}: {len(unmatched)} connection(s) without a tcp.stream: {reason}")
            elif not any(KNOWN.get((name, sid)) for sid in ts):  # else explained by the stream's own reason
                failures.append(f"{name}: our connections {unmatched[:3]} match no tcp.stream")
        tot += len(ts)
        split_ok += s_ok
        comp_ok += c_ok
        print(f"{name:45s} {len(ts):7d} {s_ok:6d} {c_ok:6d}")
    print(f"all captures: {tot} tcp.streams, split equal {split_ok}, completeness equal {comp_ok}")
    for k in KNOWN:
        if k not in known_seen:
            failures.append(f"known difference {k} no longer occurs: remove it from KNOWN")
    for f in failures:
        print("FAIL " + f)
    if failures or tot == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
