#!/usr/bin/env python3
"""The decoder on a real kernel capture wrapped in the encapsulations that
used to lose a connection (test-captures/make-decoder-captures.py): PPPoE
with and without a compressed protocol field, 802.1BR E-Tag, Cisco HDLC,
IPv4 source routes, IPv4 fragments. tshark must read each as TCP, in as
many tcp.streams as the original; the CLI must find the same connections
with the same verdicts as in the original, with every packet analysed, no
warning, and (source routes) every checksum verified good. Overlapping
fragments drop the datagram, with a warning naming file and packet.

usage: check_decode.py TCPPHASE_BINARY TEST_CAPTURES_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from tputil import check, finish, jsonl

BIN, CAPS = sys.argv[1], sys.argv[2]
SRC = os.path.join(CAPS, "close-client-first.pcap")
SRC6 = os.path.join(CAPS, "ipv6.pcap")
GEN = os.path.join(CAPS, "make-decoder-captures.py")
WRAPPED = ["pppoe-pfc", "pppoe", "etag", "chdlc", "lsrr", "ssrr", "lsrr-done", "ipfrag"]
# what a connection record must keep whatever wraps its packets (not uid:
# it is seeded from the first packet's bytes)
SAME = ["conn_state", "history", "handshake", "teardown", "orig_state", "resp_state", "duration",
        "orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_h", "orig_p", "resp_h", "resp_p", "anomalies"]


def cli(path, *extra):
    p = subprocess.run([BIN, "-r", path, "-F", "json", "--checksums", "verify", *extra],
                       capture_output=True, text=True)
    recs = jsonl(p.stdout)
    conns = [{k: r.get(k) for k in SAME} for r in recs if r["type"] == "conn"]
    summary = recs[-1] if recs and recs[-1]["type"] == "summary" else {}
    return p, conns, summary


def tshark_streams(path):
    """(frames, frames tshark reads as TCP, distinct tcp.stream values)."""
    p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"],
                       capture_output=True, text=True)
    rows = [l.split("\t") for l in p.stdout.splitlines() if l.strip()]
    return len(rows), sum(1 for r in rows if r[1]), len({r[1] for r in rows if r[1]})


tmp = tempfile.mkdtemp()
try:
    g = subprocess.run([sys.executable, GEN, SRC, tmp, SRC6], capture_output=True, text=True)
    check(g.returncode == 0, f"make-decoder-captures.py writes the captures ({g.stderr.strip()!r})")
    _, want, ref = cli(SRC)
    check(len(want) == 1 and want[0]["conn_state"] == "SF", "the original: one connection, SF")
    has_tshark = shutil.which("tshark") is not None
    if has_tshark:
        _, _, ref_streams = tshark_streams(SRC)
    else:
        print("note tshark not found: Wireshark's reading of the captures is not checked")

    _, want6, ref6 = cli(SRC6)
    if has_tshark:
        _, _, ref6_streams = tshark_streams(SRC6)
    for name in WRAPPED + ["pppoe-pfc6", "ipfrag6"]:
        path = os.path.join(tmp, name + ".pcap")
        v6 = name.endswith("6")
        if has_tshark:
            frames, tcp, streams = tshark_streams(path)
            # fragments: only the packet that completes a segment is TCP to tshark
            frag = name.startswith("ipfrag")
            check((frag or tcp == frames) and streams == (ref6_streams if v6 else ref_streams),
                  f"{name}: tshark reads {tcp} of {frames} frames as TCP, in {streams} tcp.stream(s) "
                  f"(the original: {ref6_streams if v6 else ref_streams})")
        p, got, s = cli(path)
        check(p.returncode == 0 and p.stderr == "", f"{name}: exit 0, no warning ({p.stderr.strip()!r})")
        check(got == (want6 if v6 else want), f"{name}: the same connection and verdicts as the original")
        if v6:
            check(s.get("segments") == ref6["segments"] and s["decode"].get("bad_checksum") == 0,
                  f"{name}: all {ref6['segments']} segments analysed, every checksum good")
            continue
        dec = s.get("decode", {})
        check(s.get("segments") == ref["segments"] and dec.get("bad_checksum") == 0,
              f"{name}: all {ref['segments']} segments analysed, every checksum good "
              f"(segments {s.get('segments')}, bad {dec.get('bad_checksum')})")
        if name == "ipfrag":
            r = dec.get("reassembly", {})
            check(r.get("reassembled") == 4 and s.get("packets") == dec.get("fragment") + ref["segments"],
                  f"ipfrag: 4 datagrams reassembled, every other fragment counted as one ({r})")

    # the SYN's fragments overlap: dropped, as the receiving Linux drops it
    path = os.path.join(tmp, "ipfrag-overlap.pcap")
    p, got, s = cli(path)
    r = s.get("decode", {}).get("reassembly", {})
    check(p.returncode == 0 and "ipfrag-overlap.pcap: packet 2: IP fragments: overlapping fragments" in p.stderr,
          f"ipfrag-overlap: a warning naming file and packet ({p.stderr.strip()!r})")
    check(r.get("overlapping") == 1 and r.get("unfinished") == 1 and s.get("segments") == ref["segments"] - 1,
          f"ipfrag-overlap: the SYN's datagram dropped, its last fragment left unfinished ({r})")
    check(len(got) == 1 and "S" not in got[0]["history"], "ipfrag-overlap: the connection is seen without its SYN")
    text = subprocess.run([BIN, "-r", path], capture_output=True, text=True).stdout
    check("fragments dropped 1" in text and "overlapping 1" in text,
          "ipfrag-overlap: the text summary counts the dropped fragment and the overlap")

    # a fragment flood: first fragments of 4100 datagrams that never
    # complete, then, 31 s later, one more packet: warned when 1024 are held,
    # refused past 4096, the held ones timed out on the capture's clock
    def first_fragment(i):
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 16, i & 0xffff, 0x2000, 64, 6, 0,
                                   bytes([10, 7, i >> 16 & 255, 1]), bytes([10, 7, 0, 2])))
        return bytes(ip) + bytes(16)
    pkts = [(1000, i, first_fragment(i)) for i in range(4100)] + [(1031, 0, first_fragment(99999))]
    out = bytearray(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    for sec, usec, pk in pkts:
        out += struct.pack("<IIII", sec, usec, len(pk), len(pk)) + pk
    flood = os.path.join(tmp, "frag-flood.pcap")
    open(flood, "wb").write(out)
    p, _, s = cli(flood)
    r = s.get("decode", {}).get("reassembly", {})
    check("frag-flood.pcap: packet 1024: IP fragments: 1024 incomplete datagrams held (a fragment flood?)" in p.stderr,
          "fragment flood: one warning when 1024 incomplete datagrams are held, naming file and packet")
    check("frag-flood.pcap: packet 4097: IP fragments: too many incomplete datagrams held" in p.stderr,
          "fragment flood: a warning at the first fragment refused over the cap of 4096 datagrams")
    check(r.get("over_datagrams") == 4 and r.get("timed_out") == 4096 and r.get("unfinished") == 1
          and s["decode"].get("fragment_dropped") == 4,
          f"fragment flood: 4 refused, 4096 timed out 30 s later, 1 left at the end ({r})")

    # --frag-timeout: the kernel capture's fragments, microseconds apart,
    # are reassembled by default and all time out below a microsecond
    fs = os.path.join(CAPS, "fragmented-syn.pcap")
    p, c1, s = cli(fs)
    r = s.get("decode", {}).get("reassembly", {})
    check(p.returncode == 0 and r.get("reassembled") == 2 and c1 and c1[0]["handshake"] == "complete",
          f"fragmented-syn.pcap: SYN and request reassembled, the handshake complete ({r})")
    p, c2, s = cli(fs, "--frag-timeout", "0.000001")
    r = s.get("decode", {}).get("reassembly", {})
    check(p.returncode == 0 and r.get("reassembled") == 0 and r.get("timed_out", 0) >= 2
          and c2 and c2[0]["orig_pkts"] == c1[0]["orig_pkts"] - 2 and not c2[0]["history"].startswith("S"),
          f"--frag-timeout 0.000001: every datagram times out, the SYN and the request with it ({r})")
    p, _, _ = cli(fs, "--frag-timeout", "0")
    check(p.returncode == 1 and "--frag-timeout takes a number of seconds above 0" in p.stderr,
          "--frag-timeout 0 is refused in one line")

    # a filter expression: what it left out is counted
    p, _, s = cli(SRC, "tcp[13] & 2 != 0")
    check(s.get("filtered_out") == ref["packets"] - 2,
          f"a filter: filtered_out counts the packets it left out ({s.get('filtered_out')})")
finally:
    shutil.rmtree(tmp)

finish("all decoder checks passed")
