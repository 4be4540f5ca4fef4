#!/usr/bin/env python3
"""The CLI as a user meets it: options, formats, exit codes, damaged input.

usage: check_cli.py TCPPHASE_BINARY TEST_CAPTURES_DIR [TP_GEN_BINARY]
"""
import contextlib
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from tputil import check, finish, jsonl

BIN, CAPS = sys.argv[1], sys.argv[2]
GEN = sys.argv[3] if len(sys.argv) > 3 else None  # bench/tp_gen, for a long flood
# a real trace with one complete HTTP connection (Zeek: SF, ShADadfF)
HTTP = os.path.join(CAPS, "zeek", "tcp-http-with-padding.pcap")


def run(args, stdin=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True, input=stdin)


def records(data):
    """A classic little-endian pcap's records: [sec, usec, incl, orig, bytes]."""
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out.append([sec, usec, incl, orig, bytearray(data[off + 16:off + 16 + incl])])
        off += 16 + incl
    return out


def write_pcap(path, head, recs, incl_override=None):
    out = bytearray(head)
    for i, (sec, usec, incl, orig, pkt) in enumerate(recs):
        if incl_override and incl_override[0] == i:
            incl = incl_override[1]
        out += struct.pack("<IIII", sec, usec, incl, orig) + pkt
    open(path, "wb").write(out)


def summary_of(p):
    recs = jsonl(p.stdout)
    return recs[-1] if recs and recs[-1].get("type") == "summary" else {}


def damaged_packets(tmp, data):
    """One damaged packet inside a sound file: a warning naming file, packet
    and layer; the other 24 packets of the HTTP trace are still analysed."""
    head, base = data[:24], records(data)
    cases = [  # (name, packet index, mutation, warning, counted as)
        ("ihl", 4, lambda b: b.__setitem__(14, 0x44), "packet 5: IPv4: header length below 20", "malformed"),
        ("doff3", 5, lambda b: b.__setitem__(46, (3 << 4) | (b[46] & 15)), "packet 6: TCP: data offset below 5",
         "malformed"),
        ("doff15", 6, lambda b: b.__setitem__(46, (15 << 4) | (b[46] & 15)),
         "packet 7: TCP: data offset past the end", "malformed"),
        ("iplen", 7, lambda b: b.__setitem__(slice(16, 18), b"\xff\xff"),
         "packet 8: IPv4: total length beyond the end of the packet", "malformed"),
    ]
    for name, i, mutate, warning, kind in cases:
        recs = [list(r[:4]) + [bytearray(r[4])] for r in base]
        mutate(recs[i][4])
        path = os.path.join(tmp, name + ".pcap")
        write_pcap(path, head, recs)
        p = run(["-r", path, "-F", "json"])
        s = summary_of(p)
        check(p.returncode == 0 and f"{name}.pcap: {warning}" in p.stderr,
              f"{name}: exit 0, warning '{name}.pcap: {warning}' (got {p.stderr.strip()!r})")
        check(s.get("segments") == 24 and s["decode"][kind] == 1 and s.get("connections") == 1,
              f"{name}: the other 24 segments analysed, 1 counted {kind}")

    # a zero-length record between packets 3 and 4
    recs = base[:3] + [[base[3][0], base[3][1], 0, 0, bytearray()]] + base[3:]
    path = os.path.join(tmp, "zero.pcap")
    write_pcap(path, head, recs)
    p = run(["-r", path, "-F", "json"])
    s = summary_of(p)
    check(p.returncode == 0 and "zero.pcap: packet 4: Ethernet: header cut short" in p.stderr,
          "zero-length packet: warning names file and packet 4")
    check(s.get("packets") == 26 and s.get("segments") == 25, "zero-length packet: the 25 real ones analysed")

    # an absurd record length in packet 10: the reader finds packet 11 and goes on
    path = os.path.join(tmp, "absurd.pcap")
    write_pcap(path, head, base, incl_override=(9, 0xFFFFFFF0))
    p = run(["-r", path, "-F", "json"])
    s = summary_of(p)
    check(p.returncode == 3 and "absurd.pcap: packet 10: captured length 4294967280 is absurd" in p.stderr
          and "skipped" in p.stderr, f"absurd record length: exit 3, message names file and packet ({p.stderr.strip()!r})")
    check(s.get("packets") == 24 and s.get("segments") == 24 and s.get("read_errors") == 1,
          "absurd record length: the 24 other packets analysed")
    conn = [r for r in jsonl(p.stdout) if r["type"] == "conn"]
    check(len(conn) == 1 and conn[0]["conn_state"] == "SF", "absurd record length: the connection still ends SF")


def ng_block(btype, body):
    body = bytes(body) + b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def ng_idb(linktype):
    return ng_block(1, struct.pack("<HHI", linktype, 0, 262144))


def ng_epb(ifid, sec, usec, pkt):
    ts = sec * 1000000 + usec
    return ng_block(6, struct.pack("<IIIII", ifid, ts >> 32, ts & 0xffffffff, len(pkt), len(pkt)) + bytes(pkt))


def pcapng_cases(tmp, data):
    """pcapng: interfaces of different link types in one file; a block whose
    length is damaged; an interface of a link type we do not decode."""
    base = records(data)
    shb = ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    ref = jsonl(run(["-r", HTTP, "-F", "json"]).stdout)[0]

    # odd packets on an Ethernet interface, even ones on a raw-IP interface (101)
    out = bytearray(shb + ng_idb(1) + ng_idb(101))
    for i, (sec, usec, incl, orig, pkt) in enumerate(base):
        out += ng_epb(0, sec, usec, pkt) if i % 2 == 0 else ng_epb(1, sec, usec, pkt[14:])
    path = os.path.join(tmp, "two-linktypes.pcapng")
    open(path, "wb").write(out)
    p = run(["-r", path, "-F", "json"])
    s = summary_of(p)
    conn = [r for r in jsonl(p.stdout) if r["type"] == "conn"]
    check(p.returncode == 0 and s.get("segments") == 25 and len(conn) == 1,
          "pcapng with Ethernet and raw-IP interfaces: all 25 segments analysed, one connection")
    check(conn and all(conn[0][k] == ref[k] for k in ("conn_state", "history", "orig_pkts", "resp_pkts", "duration")),
          "pcapng with two link types: the same connection record as the Ethernet-only pcap")
    p = run(["-r", path, "-F", "json", "tcp[tcpflags] & tcp-syn != 0"])
    s = summary_of(p)
    check(p.returncode == 0 and s.get("segments") == 2,
          "a BPF filter applies to each interface's link type (2 SYN segments)")

    # the length of packet 10's block damaged at both ends: skipped, the rest analysed
    out = bytearray(shb + ng_idb(1))
    for i, (sec, usec, incl, orig, pkt) in enumerate(base):
        b = bytearray(ng_epb(0, sec, usec, pkt))
        if i == 9:
            b[4:8] = struct.pack("<I", 0x7FFFFFF0)
        out += b
    path = os.path.join(tmp, "bad-block.pcapng")
    open(path, "wb").write(out)
    p = run(["-r", path, "-F", "json"])
    s = summary_of(p)
    check(p.returncode == 3 and "bad-block.pcapng: packet 10: block length 2147483632 is absurd" in p.stderr,
          f"pcapng block length absurd: exit 3, message names file and packet ({p.stderr.strip()!r})")
    check(s.get("packets") == 24 and s.get("segments") == 24, "pcapng block length absurd: the other 24 analysed")

    # a second interface of link type 147 (user-defined): one warning, counted
    out = bytearray(shb + ng_idb(1) + ng_idb(147))
    for i, (sec, usec, incl, orig, pkt) in enumerate(base):
        out += ng_epb(i % 2, sec, usec, pkt)
    path = os.path.join(tmp, "lt147.pcapng")
    open(path, "wb").write(out)
    p = run(["-r", path, "-F", "json"])
    s = summary_of(p)
    check(p.stderr.count("link type 147") == 1 and s.get("decode", {}).get("unsupported") == 12
          and s.get("segments") == 13, "pcapng interface of an unknown link type: one warning, 12 counted, 13 analysed")

p = run(["--help"])
check(p.returncode == 0 and "-r FILE" in p.stdout and "exit codes" in p.stdout, "--help documents input and exit codes")
p = run(["--version"])
check(p.returncode == 0 and p.stdout.startswith("tcpphase "), "--version")
p = run(["--no-such-option"])
check(p.returncode == 1, "unknown option exits 1")
p = run([])
check(p.returncode == 1 and "-r FILE" in p.stderr, "no input: usage on stderr, exit 1")
p = run(["-r", "/nonexistent/x.pcap"])
check(p.returncode == 2 and "/nonexistent/x.pcap" in p.stderr, "missing file: exit 2, message names the file")
p = run(["-r", HTTP, "-F", "yaml"])
check(p.returncode == 1 and "yaml" in p.stderr, "unknown format rejected")
p = run(["-r", HTTP, "--segments", "-F", "zeek"])
check(p.returncode == 1, "segments in conn.log format rejected")

# the README's anomaly table is the core's table, as --list-anomalies prints it
p = run(["--list-anomalies"])
readme = open(os.path.join(CAPS, "..", "README.md")).read()
block = readme.split("<!-- ANOMALY-TABLE")[1].split("-->", 1)[1].split("<!-- /ANOMALY-TABLE -->")[0]
kinds = p.stdout.count("\n") - 2
check(p.returncode == 0 and kinds >= 25 and block.strip() == p.stdout.strip(),
      f"README's anomaly table equals --list-anomalies ({kinds} kinds)")

# the README's example output is what the CLI prints today on the shipped captures
ex = readme.split("<!-- EXAMPLE-OUTPUT -->")[1].split("<!-- /EXAMPLE-OUTPUT -->")[0].split("```\n")
p = subprocess.run([os.path.abspath(BIN), "-r", "test-captures/demo.pcapng", "--color", "never"],
                   capture_output=True, text=True, cwd=os.path.join(CAPS, ".."))  # the summary names the file as typed
check(p.returncode == 0 and ex[1] == p.stdout + p.stderr, "README's quick-start output equals tcpphase -r demo.pcapng")
p = run(["-r", os.path.join(CAPS, "lost-final-ack.pcap"), "--segments", "--no-summary", "--color", "never"])
check(p.returncode == 0 and ex[3] == p.stdout, "README's --segments example equals the CLI's output")

# JSON Lines: every record typed; Zeek's key names; the summary last
p = run(["-r", HTTP, "-F", "json"])
recs = jsonl(p.stdout)
check(p.returncode == 0 and all("type" in r for r in recs), "every JSON record has a type")
conns = [r for r in recs if r["type"] == "conn"]
check(len(conns) == 1, "one connection in the HTTP trace")
c = conns[0]
for k in ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "duration", "orig_pkts", "resp_pkts",
          "orig_bytes", "resp_bytes", "conn_state", "history", "orig_state", "resp_state", "handshake",
          "teardown", "completeness", "anomalies"):
    check(k in c, f"conn record has {k}")
check(c["id.resp_p"] == 27272 and c["conn_state"] == "SF", "HTTP connection: responder port and SF as Zeek logs")
check(c["handshake"] == "complete" and c["completeness"] == 31, "HTTP connection: complete handshake, completeness 31")
check(recs[-1]["type"] == "summary" and recs[-1]["connections"] == 1, "summary record last, counts 1 connection")

# per-segment records carry the keys and the handshake steps in order
p = run(["-r", HTTP, "--segments", "-F", "json", "--no-summary"])
segs = [r for r in jsonl(p.stdout) if r["type"] == "segment"]
check(len(segs) == 25, "25 segments in the HTTP trace (tshark: 25 TCP frames)")
for k in ("frame", "ts", "uid", "dir", "phase", "step", "orig_state", "resp_state", "anomalies"):
    check(all(k in s for s in segs), f"segment records have {k}")
check([s["step"] for s in segs[:3]] == ["HS 1/3", "HS 2/3", "HS 3/3"], "first three segments are HS 1/3, 2/3, 3/3")
check(segs[0]["orig_state"] == "SYN-SENT" and segs[2]["resp_state"] == "ESTABLISHED", "handshake states")
check([s["frame"] for s in segs] == sorted(s["frame"] for s in segs), "segments in frame order")

# conn.log TSV that zeek-cut style readers parse by #fields
p = run(["-r", HTTP, "-F", "zeek", "--no-summary"])
lines = p.stdout.splitlines()
fields = [l for l in lines if l.startswith("#fields")]
check(len(fields) == 1, "zeek format has one #fields header")
names = fields[0].split("\t")[1:]
rows = [l.split("\t") for l in lines if not l.startswith("#")]
check(len(rows) == 1 and len(rows[0]) == len(names), "zeek rows have as many columns as #fields")
check(dict(zip(names, rows[0]))["conn_state"] == "SF", "zeek format: conn_state column")

p = run(["-r", HTTP, "-F", "csv", "--no-summary"])
lines = p.stdout.splitlines()
check(lines[0].startswith("type,ts,uid,") and len(lines) == 2, "csv: header and one row")

# a BPF filter that matches nothing, and reading standard input
p = run(["-r", HTTP, "-F", "json", "port", "1"])
check(jsonl(p.stdout)[-1]["connections"] == 0, "BPF filter 'port 1' leaves no connection")
with open(HTTP, "rb") as f:
    p = subprocess.run([BIN, "-r", "-", "-F", "json"], capture_output=True, input=f.read())
check(p.returncode == 0 and b'"conn_state":"SF"' in p.stdout, "-r - reads standard input")

# the connection cap under a flood: evictions counted and reported, every
# connection still gets a record, the flood is still detected
FLOOD = os.path.join(CAPS, "syn-flood.pcap")
full = jsonl(run(["-r", FLOOD, "-F", "json"]).stdout)
p = run(["-r", FLOOD, "-F", "json", "--max-conns", "50"])
capped = jsonl(p.stdout)
s = capped[-1]
conns = [r for r in capped if r["type"] == "conn"]
alerts = [r for r in capped if r["type"] == "alert" and r["alert"] == "syn_flood"]
full_alert = [r for r in full if r["type"] == "alert"]
check(p.returncode == 0 and s["peak_tracked"] == 50 and s["evicted"] > 250,
      f"--max-conns 50 on the flood: at most 50 tracked, {s['evicted']} evicted and counted in the summary")
check(len(conns) == s["connections"] and sum(r["end"] == "evicted" for r in conns) == s["evicted"],
      "--max-conns 50: every connection has a record; evicted ones say end 'evicted'")
check(len(alerts) == 1 and len(full_alert) == 1 and alerts[0] == full_alert[0],
      "--max-conns 50: the flood is still detected, with the same alert (SYNs, sources, answers, peak half-open)")
# the embryonic cap (a SYN backlog): only connections in their handshake are
# evicted, and the flood alert is the one the uncapped run gives
p = run(["-r", FLOOD, "-F", "json", "--max-embryonic", "20"])
emb = jsonl(p.stdout)
s_emb = emb[-1]
e_conns = [r for r in emb if r["type"] == "conn"]
check(p.returncode == 0 and s_emb["evicted"] > 250 and s_emb["peak_tracked"] <= 30,
      f"--max-embryonic 20 on the flood: {s_emb['evicted']} evicted, peak tracked {s_emb['peak_tracked']}")
check(all(r["handshake"] not in ("complete", "none") for r in e_conns if r["end"] == "evicted"),
      "--max-embryonic 20: every evicted connection was still in its handshake")
check([r for r in emb if r["type"] == "alert"] == full_alert,
      "--max-embryonic 20: the same flood alert as without a cap")
# determinism: the same input, byte-identical output
runs = [run(["-r", FLOOD, "-F", "json", "--segments", "--conns"]).stdout for _ in range(3)]
check(runs[0] == runs[1] == runs[2] and len(runs[0]) > 1000, "three runs on the flood give byte-identical output")
p = run(["-r", FLOOD, "--max-conns", "50"])
check(f"(peak tracked 50, evicted {s['evicted']}, expired {s['expired']})" in p.stdout,
      "--max-conns 50: the text summary shows the evictions and expiries")

# A flood that outlasts the SYN timeout (tp_gen: 20,000 spoofed SYNs over 8 s),
# so connections are evicted before their late verdict and must stop counting
# as half-open when it would have come: a cap of 2,000 gives the uncapped
# run's alert and verdict counts, in a tenth of the connections tracked.
@contextlib.contextmanager
def generated(name, args, what):
    """A capture tp_gen writes into a scratch folder, removed afterwards."""
    folder = tempfile.mkdtemp()
    try:
        path = os.path.join(folder, name)
        g = subprocess.run([GEN] + args + ["-o", path], capture_output=True, text=True)
        check(g.returncode == 0, f"tp_gen made {what}")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if GEN:
    with generated("flood8s.pcap", ["--flood", "--seed", "3", "--syns", "20000", "--duration", "8"],
                   "an 8 s flood of 20,000 SYNs") as big:
        free = jsonl(run(["-r", big, "-F", "json", "--max-embryonic", "0"]).stdout)
        capd = jsonl(run(["-r", big, "-F", "json", "--max-embryonic", "2000"]).stdout)
        fa = [r for r in free if r["type"] == "alert"]
        ca = [r for r in capd if r["type"] == "alert"]
        check(len(fa) == 1 and ca == fa, "8 s flood, --max-embryonic 2000: the same alert as uncapped"
              + (f" ({ca} vs {fa})" if ca != fa else ""))
        fs, cs = free[-1], capd[-1]
        check(cs["evicted"] > 10000 and cs["peak_tracked"] < fs["peak_tracked"] / 5,
              f"8 s flood: {cs['evicted']} evicted, peak tracked {cs['peak_tracked']} (uncapped {fs['peak_tracked']})")
        check(cs["handshake"] == fs["handshake"] and cs["anomalies"] == fs["anomalies"],
              "8 s flood, --max-embryonic 2000: every handshake verdict and anomaly counted as uncapped")

# --segments writes a segment once no late verdict can change it, while the
# capture is still being read: on a 5-minute capture (tp_gen, 3,000
# connections) fed through a pipe, segment records come out before the
# capture's last part is written, and the whole output is the same as when
# every segment waits for the end (--conns, where they follow the records).
def stream_through_pipe(path):
    """tcpphase -r - --segments -F json, fed path's first two thirds; once
    it has read them and nothing more comes out for a second, the rest.
    Returns the exit code, what it wrote before the rest was sent, and
    after. Threads read and write, so that no pipe can fill up and stall
    the other (the sanitizer build is slow)."""
    data = open(path, "rb").read()
    p = subprocess.Popen([BIN, "-r", "-", "--segments", "-F", "json", "--no-summary"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    head = data[:len(data) * 2 // 3]
    sent, go = threading.Event(), threading.Event()
    out = []

    def feed():
        p.stdin.write(head)
        p.stdin.flush()
        sent.set()
        go.wait()
        p.stdin.write(data[len(head):])
        p.stdin.close()

    def drain():
        for chunk in iter(lambda: os.read(p.stdout.fileno(), 1 << 16), b""):
            out.append(chunk)

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for t in threads:
        t.start()
    sent.wait(600)
    size, quiet = -1, 0
    while quiet < 10:  # a second without new output
        time.sleep(0.1)
        now = sum(len(c) for c in out)
        quiet = quiet + 1 if now == size else 0
        size = now
    early = b"".join(out)
    go.set()
    for t in threads:
        t.join(600)
    p.wait()
    return p.returncode, early, b"".join(out)[len(early):]


if GEN:
    with generated("mixed300s.pcap", ["--mixed", "--seed", "4", "--conns", "3000", "--duration", "300"],
                   "a 300 s capture of 3,000 connections") as long_cap:
        rc, early, late = stream_through_pipe(long_cap)
        check(len(early) >= 200000, f"--segments: {len(early)} bytes of segment records written before the "
              "last third of the capture arrived")
        streamed = jsonl((early + late).decode())
        held = [r for r in jsonl(run(["-r", long_cap, "--segments", "--conns", "-F", "json", "--no-summary"]).stdout)
                if r["type"] == "segment"]
        check(rc == 0 and len(held) > 50000 and streamed == held,
              f"--segments as it streams: the same {len(held)} segment records as held to the end"
              + ("" if streamed == held else f" (got {len(streamed)})"))
        check(any("lost_final_ack" in r.get("anomalies", []) for r in streamed),
              "--segments as it streams: late verdicts (lost_final_ack) are still on their segments")

# Closed connections lingering in TIME-WAIT keep their state in a temporary
# file (--spill-dir; $TMPDIR, else /tmp) once a block of them is full: on
# 6,000 connections in 30 s every record and segment is the same as with
# --no-spill, the summary says how much went there, and a folder that cannot
# take the file, or a file that fills up (RLIMIT_FSIZE), keeps the state in
# memory after a warning that names the capture, with the same results.
def without_spill_key(recs):
    return [{k: v for k, v in r.items() if k != "spilled_peak"} for r in recs]


def fsize_limited(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


if GEN:
    with generated("mixed6k.pcap", ["--mixed", "--seed", "5", "--conns", "6000", "--duration", "30",
                                    "--snaplen", "96"], "30 s of 6,000 connections") as many:
        args = ["-r", many, "-F", "json", "--segments", "--conns"]
        kept = run(args + ["--no-spill"])
        kept_recs = jsonl(kept.stdout)
        with tempfile.TemporaryDirectory() as spill_dir:
            spilled = run(args + ["--spill-dir", spill_dir])
            left = os.listdir(spill_dir)
            sp = jsonl(spilled.stdout)
            check(spilled.returncode == 0 and spilled.stderr == "" and sp[-1].get("spilled_peak", 0) > 100000,
                  f"6,000 connections: lingering state spilled ({sp[-1].get('spilled_peak')} bytes at most)")
            check("spilled_peak" not in kept_recs[-1], "--no-spill: nothing spilled, no spilled_peak in the summary")
            check(without_spill_key(sp) == kept_recs and len(sp) > 100000,
                  f"spilled or kept in memory: the same {len(sp)} records")
            check(left == [], f"the spill file is gone with the run ({left})")
            p = subprocess.run([BIN] + args + ["--spill-dir", spill_dir], capture_output=True, text=True,
                               preexec_fn=fsize_limited(300000))
            check(p.returncode == 0 and f"{many}: writing the spill file in {spill_dir}" in p.stderr
                  and without_spill_key(jsonl(p.stdout)) == kept_recs,
                  "a spill file that fills up: a warning, and the same records"
                  + (f" ({p.stderr.strip()})" if p.returncode else ""))
        gone = os.path.join(tempfile.gettempdir(), "tcpphase-no-such-folder")
        p = run(args + ["--spill-dir", gone])
        check(p.returncode == 0 and f"{many}: cannot make a spill file in {gone}" in p.stderr
              and jsonl(p.stdout) == kept_recs, "a spill folder that does not exist: a warning, the same records")
        t = run(["-r", many])
        check("lingering connections' state in a temporary file:" in t.stdout,
              "the text summary says that lingering state went to a temporary file")

# Ctrl-C while a file is read: the reading thread stops, and every packet it
# had read is still fed and accounted for (packets read = segments analysed =
# the packets in the connection records, all of them written).
def interrupted_run(path):
    """tcpphase -r path -F json, SIGINT after a moment; its summary and the
    packets its connection records count, once a run was interrupted.
    A signal before the CLI has set its handler (a slow sanitizer build on a
    busy machine starts late) ends it as a plain SIGINT does: the next try
    waits longer; one that comes after the end, shorter."""
    for delay in (0.2, 0.5, 1.0, 2.0, 0.1, 0.05):
        p = subprocess.Popen([BIN, "-r", path, "-F", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=600)
        recs = jsonl(out)
        summ = recs[-1] if recs and recs[-1].get("type") == "summary" else {}
        if p.returncode == 0 and summ.get("interrupted"):
            return summ, sum(r["orig_pkts"] + r["resp_pkts"] for r in recs if r["type"] == "conn")
    return {}, 0


if GEN:
    with generated("flood300k.pcap", ["--flood", "--seed", "5", "--syns", "300000", "--duration", "30"],
                   "a flood of 300,000 SYNs (402,779 packets)") as flood:
        summ, in_records = interrupted_run(flood)
        check(0 < summ.get("packets", 0) < 402779,
              f"SIGINT while reading a file: exit 0, summary says interrupted after {summ.get('packets')} packets")
        check(summ.get("segments") == summ.get("packets") == in_records,
              f"SIGINT while reading a file: all {summ.get('packets')} packets read were analysed "
              f"({summ.get('segments')}) and are in the connection records ({in_records})")

# Ctrl-C while reading a pipe whose writer is still there but silent (a
# stalled `tcpdump -w -`): the run stops at once, as at the end of the
# capture, and reports what it read. Before, the read went on waiting.
def interrupted_pipe(data):
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen([BIN, "-r", "-", "-F", "json"], stdin=subprocess.PIPE, stdout=out,
                             stderr=subprocess.PIPE)
        p.stdin.write(data)
        p.stdin.flush()  # and the pipe stays open
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
        p.stdin.close()
        err = p.stderr.read().decode()
        p.stderr.close()
        out.seek(0)
        return rc, jsonl(out.read().decode()), err


http = open(HTTP, "rb").read()
rc, recs, err = interrupted_pipe(http[:len(http) - 100])  # the last record not yet written
summ = recs[-1] if recs else {}
check(rc == 0 and summ.get("interrupted") and summ.get("read_errors") == 0 and err == ""
      and 0 < summ.get("packets", 0) and [r["type"] for r in recs].count("conn") == 1,
      f"SIGINT while a pipe's writer is silent: exit {rc} at once, {summ.get('packets')} packets reported, "
      f"interrupted, no damage reported ({err.strip()!r})")

# damaged captures: the message names the file and the packet, the rest is analysed
tmp = tempfile.mkdtemp()
try:
    data = open(HTTP, "rb").read()
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 30])  # the last record loses its tail
    p = run(["-r", cut, "-F", "json"])
    check(p.returncode == 3, "truncated file: exit 3")
    check("cut.pcap: packet 25: record cut short" in p.stderr, "truncated file: message names file and packet")
    recs = jsonl(p.stdout)
    check(any(r["type"] == "conn" for r in recs) and recs[-1]["packets"] == 24,
          "truncated file: the 24 complete packets are still analysed")

    # snaplen 40 on an Ethernet capture: IPv4 fits, the TCP header does not
    magic, vmaj, vmin, tz, sig, snaplen, lt = struct.unpack("<IHHiIII", data[:24])
    out = bytearray(struct.pack("<IHHiIII", magic, vmaj, vmin, tz, sig, 40, lt))
    off = 24
    n = 0
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        keep = pkt[:40]
        out += struct.pack("<IIII", sec, usec, len(keep), orig) + keep
        n += 1
    snap = os.path.join(tmp, "snap40.pcap")
    open(snap, "wb").write(out)
    p = run(["-r", snap, "-F", "json"])
    check(p.returncode == 0, "snaplen 40: exit 0 (damaged packets are reported, the file is sound)")
    check("snap40.pcap: packet 1:" in p.stderr and "TCP" in p.stderr, "snaplen 40: message names file, packet, layer")
    check(jsonl(p.stdout)[-1]["decode"]["truncated"] == n, "snaplen 40: every packet counted as truncated")

    # an unknown link type: one clear warning, counted
    odd = os.path.join(tmp, "linktype147.pcap")
    open(odd, "wb").write(struct.pack("<IHHiIII", magic, vmaj, vmin, tz, sig, snaplen, 147) + data[24:])
    p = run(["-r", odd, "-F", "json"])
    check(p.stderr.count("link type 147") == 1, "unknown link type: one warning naming it")
    check(jsonl(p.stdout)[-1]["decode"]["unsupported"] == n, "unknown link type: every packet counted")

    damaged_packets(tmp, data)
    pcapng_cases(tmp, data)
finally:
    shutil.rmtree(tmp)

# output that cannot be written: exit 4, the message names the file and the
# reason, whatever the format, and for standard output and the pictures too
DEMO = os.path.join(CAPS, "demo.pcapng")
for args in (["-w", "/dev/full"], ["--segments", "-F", "json", "-w", "/dev/full"], ["-F", "zeek", "-w", "/dev/full"]):
    p = run(["-r", DEMO] + args)
    check(p.returncode == 4 and "tcpphase: /dev/full: No space left on device" in p.stderr,
          f"tcpphase {' '.join(args)}: exit {p.returncode} (4), {p.stderr.strip()!r}")
with open("/dev/full", "w") as full:
    p = subprocess.run([BIN, "-r", DEMO], stdout=full, stderr=subprocess.PIPE, text=True)
check(p.returncode == 4 and "tcpphase: standard output: No space left on device" in p.stderr,
      f"tcpphase -r demo.pcapng > /dev/full: exit {p.returncode} (4), {p.stderr.strip()!r}")
p = run(["-r", DEMO, "-w", "/nonexistent-dir/out.json"])
check(p.returncode == 4 and "tcpphase: /nonexistent-dir/out.json: No such file or directory" in p.stderr,
      f"-w into a missing folder: exit {p.returncode} (4, an output error, not 1), {p.stderr.strip()!r}")
uid = next(r["uid"] for r in jsonl(run(["-r", DEMO, "-F", "json", "--no-summary"]).stdout))
p = run(["ladder", "-r", DEMO, "--conn", uid, "-o", "/dev/full"])
check(p.returncode == 4 and "tcpphase ladder: /dev/full: No space left on device" in p.stderr,
      f"ladder -o /dev/full: exit {p.returncode} (4), {p.stderr.strip()!r}")

# --anomaly and --only-anomalies: exactly the records carrying one of them,
# connections and segments alike; times stay relative to the capture
def has_any(rec, want):
    return bool(set(rec["anomalies"]) & want) if want else bool(rec["anomalies"])


for args, want in ((["--anomaly", "half_open,lost_final_ack"], {"half_open", "lost_final_ack"}),
                   (["--anomaly", "refused", "--anomaly", "reset_abort"], {"refused", "reset_abort"}),
                   (["--only-anomalies"], set())):
    for mode in ([], ["--segments"]):
        every = jsonl(run(["-r", DEMO, "-F", "json", "--no-summary"] + mode).stdout)
        p = run(["-r", DEMO, "-F", "json", "--no-summary"] + mode + args)
        got = jsonl(p.stdout)
        expect = [r for r in every if has_any(r, want)]
        check(p.returncode == 0 and got == expect and 0 < len(got) < len(every),
              f"{' '.join(mode + args)}: the {len(expect)} of {len(every)} records carrying "
              f"{', '.join(sorted(want)) or 'any anomaly'} (got {len(got)})")
text_all = {l.split()[0]: l for l in run(["-r", DEMO, "--segments", "--no-summary"]).stdout.splitlines()[1:]}
text_some = run(["-r", DEMO, "--segments", "--no-summary", "--only-anomalies"]).stdout.splitlines()[1:]
check(text_some and all(text_all.get(l.split()[0]) == l for l in text_some),
      "--only-anomalies --segments: each text line as in the unfiltered output (times relative to the capture)")

# --time: one style for every time in text (records and the flood alert)
import datetime
FLOODCAP = os.path.join(CAPS, "syn-flood.pcap")
js = jsonl(run(["-r", FLOODCAP, "-F", "json", "--no-summary"]).stdout)
alert = next(r for r in js if r["type"] == "alert")
first_conn = next(r for r in js if r["type"] == "conn")
t0 = min(r["ts"] for r in js if r["type"] == "conn")
iso = datetime.datetime.fromtimestamp(alert["start"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
for style, want in (("relative", f"from {alert['start'] - t0:.6f} to "), ("absolute", f"from {iso} to "),
                    ("epoch", f"from {alert['start']:.6f} to ")):
    p = run(["-r", FLOODCAP, "--no-summary", "--time", style])
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and want in lines[0], f"--time {style}: the flood alert says {want!r} ({lines[0][:80]!r})")
    row = next(l for l in lines if l.startswith(first_conn["uid"]))
    cols = row.split()
    shown = {"relative": f"{first_conn['ts'] - t0:.6f}", "epoch": f"{first_conn['ts']:.6f}",
             "absolute": datetime.datetime.fromtimestamp(first_conn["ts"], datetime.timezone.utc)
             .strftime("%Y-%m-%dT%H:%M:%S.%fZ")}[style]
    check(cols[7] == shown, f"--time {style}: a connection row's start is {shown} (got {cols[7]})")

# options say no to nonsense: one line naming the option and what it takes
for args, want in ((["--color", "sometimes"], "--color takes auto, always or never"),
                   (["--color", ""], "--color takes auto, always or never"),
                   (["--conns"], "--conns adds connection records to --segments"),
                   (["--flood-min-spread", "7"], "--flood-min-spread takes a number from 0 to 1, not '7'"),
                   (["--max-conns", "0"], "--max-conns takes a whole number from 1 to 4294967295, not '0'"),
                   (["--max-conns", "2.5"], "--max-conns takes a whole number"),
                   (["--flood-window", "0"], "--flood-window takes a number of seconds above 0"),
                   (["--idle-timeout", "nan"], "--idle-timeout takes a number of seconds from 0"),
                   (["--wireshark", "3.6"], "--wireshark takes 4.0, 4.4 or 4.6"),
                   (["--anomaly", "half_open,bogus"], "--anomaly takes anomaly ids separated by commas"),
                   (["--stats-every", "5"], "--stats-every is for a live capture"),
                   (["--time", "local"], "--time takes relative, absolute or epoch")):
    p = run(["-r", DEMO] + args)
    check(p.returncode == 1 and p.stdout == "" and want in p.stderr and len(p.stderr.splitlines()) == 1,
          f"{' '.join(args) or repr('')}: refused in one line, exit {p.returncode}: {p.stderr.strip()!r}")
p = run(["-r", DEMO, "--segmnets"])
check(p.returncode == 1 and p.stderr.splitlines()[-1:] == ["see tcpphase --help"] and len(p.stderr.splitlines()) == 2,
      f"a mistyped option: getopt's line and 'see tcpphase --help', not the whole help: {p.stderr.strip()!r}")


# ---- uids: unique across captures, reproducible on request -----------------

def conn_uids(path, extra=()):
    return [r["uid"] for r in jsonl(run(["-r", path, "-F", "json", "--no-summary"] + list(extra)).stdout)
            if r["type"] == "conn"]


LFA = os.path.join(CAPS, "lost-final-ack.pcap")
a, b = conn_uids(DEMO), conn_uids(LFA)
check(a and b and not set(a) & set(b), f"two captures, disjoint uids (demo {a[0]}, lost-final-ack {b[0]})")
check(conn_uids(DEMO) == a, "the same file twice: the same uids")
old = conn_uids(DEMO, ["--deterministic-uids"])
check(old[:1] == ["Ch8thC0EIkSnkLTLSS"] and conn_uids(LFA, ["--deterministic-uids"])[:1] == old[:1],
      "--deterministic-uids: the old uids (Ch8thC0EIkSnkLTLSS first, in every single-scenario capture)")
check(conn_uids(DEMO, ["--seed", "0"]) == old, "--seed 0 is --deterministic-uids")
s42 = conn_uids(DEMO, ["--seed", "42"])
check(s42 == conn_uids(DEMO, ["--seed", "0x2a"]) and not set(s42) & set(a) and not set(s42) & set(old)
      and not set(s42) & set(conn_uids(DEMO, ["--seed", "43"])), "--seed N: other uids, the same for the same N")
p = run(["-r", DEMO, "--seed", "-1"])
check(p.returncode == 1 and "--seed takes a whole number" in p.stderr, f"--seed -1 refused: {p.stderr.strip()!r}")
p = run(["ladder", "-r", DEMO, "--conn", a[0], "-o", "/dev/null"])
check(p.returncode == 0, f"ladder --conn finds a connection by its (seeded) uid {a[0]}: {p.stderr.strip()!r}")
p = run(["ladder", "-r", DEMO, "-r", LFA, "--conn", a[0], "-o", "/dev/null"])
check(p.returncode == 1 and "one -r FILE only" in p.stderr, f"ladder takes one file: {p.stderr.strip()!r}")

# every connection of every capture in the repo, in Zeek's conn.log format: no uid twice
seen, clashes, files = {}, [], 0
for root, _, names in os.walk(CAPS):
    for name in sorted(names):
        if not name.endswith((".pcap", ".pcapng")):
            continue
        path = os.path.join(root, name)
        files += 1
        out = run(["-r", path, "-F", "zeek", "--no-summary"]).stdout
        for line in out.splitlines():
            if line.startswith("#") or not line:
                continue
            uid = line.split("\t")[1]
            if uid in seen:
                clashes.append(f"{uid}: {seen[uid]} and {os.path.relpath(path, CAPS)}")
            seen[uid] = os.path.relpath(path, CAPS)
check(files > 50 and len(seen) > 400 and not clashes,
      f"-F zeek uids unique across {files} captures ({len(seen)} connections){': ' if clashes else ''}"
      + "; ".join(clashes[:5]))


# ---- several files read as one capture ----------------------------------------

def conn_records(args):
    p = run(args + ["-F", "json"])
    recs = jsonl(p.stdout)
    return p, [r for r in recs if r["type"] == "conn"], (recs[-1] if recs and recs[-1]["type"] == "summary" else {})


def split_cases(tmp, src, cuts, what):
    """src cut at packet indices cuts: the parts, in any order or as a folder,
    give the whole file's connection and segment records."""
    data = open(src, "rb").read()
    head, recs = data[:24], records(data)
    bounds = [0] + list(cuts) + [len(recs)]
    folder = os.path.join(tmp, os.path.basename(src) + ".parts")
    os.mkdir(folder)
    parts = []
    for k in range(len(bounds) - 1):
        parts.append(os.path.join(folder, f"part{k + 1}.pcap"))
        write_pcap(parts[-1], head, recs[bounds[k]:bounds[k + 1]])
    open(os.path.join(folder, "README.txt"), "w").write("not a capture\n")
    _, whole, ws = conn_records(["-r", src])
    seg_whole = run(["-r", src, "-F", "json", "-s", "--no-summary"]).stdout
    rparts = [x for p in parts for x in ("-r", p)]
    rrev = [x for p in reversed(parts) for x in ("-r", p)]
    for label, args in (("in order", rparts), ("in the wrong order", rrev), ("as a folder", ["-r", folder])):
        p, got, s = conn_records(args)
        check(p.returncode == 0 and got == whole and s.get("packets") == ws["packets"],
              f"{what} {label}: the whole file's {len(whole)} connection records (uid, packets, states, history)")
        check(run(args + ["-F", "json", "-s", "--no-summary"]).stdout == seg_whole,
              f"{what} {label}: the whole file's segment records (frame numbers run on)")
    return parts


def several_files(tmp):
    parts = split_cases(tmp, HTTP, [12], "HTTP trace cut inside its connection")
    p = run(["-r", parts[0], "-r", parts[1]])
    check(f"== tcpphase summary: 2 files: {parts[0]}, {parts[1]} ==" in p.stdout, "the summary names both files")
    split_cases(tmp, os.path.join(CAPS, "syn-flood.pcap"), [200, 450], "SYN flood capture in three")

    # files that overlap in time: merged packet by packet
    data = open(HTTP, "rb").read()
    head, recs = data[:24], records(data)
    odd, even = os.path.join(tmp, "odd.pcap"), os.path.join(tmp, "even.pcap")
    write_pcap(odd, head, recs[0::2])
    write_pcap(even, head, recs[1::2])
    _, whole, _ = conn_records(["-r", HTTP])
    p, got, _ = conn_records(["-r", even, "-r", odd])
    check(p.returncode == 0 and got == whole, "two files overlapping in time: merged packet by packet")

    # a second file of another link type (raw IP), with a damaged packet and a
    # record cut short: its warnings name it and its own packet numbers
    first, second = os.path.join(tmp, "first.pcap"), os.path.join(tmp, "second.pcap")
    write_pcap(first, head, recs[:12])
    raw = [[sec, usec, incl - 14, orig - 14, bytearray(pkt[14:])] for sec, usec, incl, orig, pkt in recs[12:]]
    write_pcap(second, head[:20] + struct.pack("<I", 101), raw)
    p, got, _ = conn_records(["-r", first, "-r", second])
    check(p.returncode == 0 and got == whole, "a raw-IP file after an Ethernet one: each decoded with its own link type")
    raw[2][4][0] = 0x44  # IPv4 header length 16
    write_pcap(second, head[:20] + struct.pack("<I", 101), raw)
    open(second, "ab").write(struct.pack("<IIII", raw[-1][0], raw[-1][1], 60, 60) + b"\0" * 10)
    p = run(["-r", second, "-r", first, "-F", "json", "--no-summary"])
    check(p.returncode == 3 and f"{second}: packet 3: IPv4: header length below 20" in p.stderr
          and f"{second}: packet {len(raw) + 1}: record cut short" in p.stderr,
          f"warnings in the second file name it and its own packet numbers: {p.stderr.strip()!r}")

    # what several files cannot be
    p = run(["-r", "-", "-r", HTTP], stdin="")
    check(p.returncode == 1 and "(standard input) cannot be read with other files" in p.stderr,
          f"-r - with another -r refused: {p.stderr.strip()!r}")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    p = run(["-r", empty])
    check(p.returncode == 2 and f"tcpphase: {empty}: no pcap or pcapng file in this folder" in p.stderr,
          f"-r a folder without captures: {p.stderr.strip()!r}")
    p = run(["-r", HTTP, "-r", os.path.join(tmp, "missing.pcap")])
    check(p.returncode == 2 and "missing.pcap: No such file or directory" in p.stderr,
          f"-r a missing file among others: exit 2, named: {p.stderr.strip()!r}")


tmp = tempfile.mkdtemp()
try:
    several_files(tmp)
finally:
    shutil.rmtree(tmp)


def unprivileged_capture():
    """tcpphase -i lo without CAP_NET_RAW (as nobody when root): libpcap's
    error, then one line saying how to be
    allowed (setcap on the binary, or dumpcap in the wireshark group)."""
    cmd = [BIN, "-i", "lo"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            print("note setpriv not found: the unprivileged capture hint is not checked")
            return
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"] + cmd
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        print("note tcpphase -i lo could capture without root here: the hint is not checked")
        return
    if p.stderr.startswith("setpriv:") or "Permission denied" in p.stderr:
        print(f"note cannot run the CLI as nobody here ({p.stderr.strip()!r}): the hint is not checked")
        return
    lines = p.stderr.splitlines()
    # libpcap's words: 'socket: Operation not permitted' (1.10.3, Debian 12),
    # 'Attempt to create packet socket failed - CAP_NET_RAW may be required'
    # (1.10.5 on, Debian unstable)
    check(p.returncode == 2 and len(lines) == 2 and lines[0].startswith("tcpphase: lo: ")
          and ("Operation not permitted" in lines[0] or "CAP_NET_RAW" in lines[0])
          and lines[1].startswith("tcpphase: hint: ")
          and "setcap cap_net_raw,cap_net_admin+eip " in lines[1]
          and "wireshark group" in lines[1] and "dumpcap -i lo -w - | tcpphase -r -" in lines[1],
          f"-i lo without privileges: libpcap's error, then the setcap and dumpcap hint, exit 2: {p.stderr.strip()!r}")


unprivileged_capture()
p = run(["-i", "tp-no-such-if0"])
check(p.returncode == 2 and "hint" not in p.stderr and len(p.stderr.splitlines()) == 1,
      f"-i on a missing interface: one line, no privilege hint: {p.stderr.strip()!r}")

finish("all CLI checks passed")
