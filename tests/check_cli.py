#!/usr/bin/env python3
"""The CLI as a user meets it: options, formats, exit codes, damaged input.

usage: check_cli.py TCPPHASE_BINARY TEST_CAPTURES_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

BIN, CAPS = sys.argv[1], sys.argv[2]
# a real trace with one complete HTTP connection (Zeek: SF, ShADadfF)
HTTP = os.path.join(CAPS, "zeek", "tcp-http-with-padding.pcap")
failures = []


def run(args, stdin=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True, input=stdin)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def jsonl(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


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
check(p.returncode == 0 and p.stdout.count("\n") == 24 and block.strip() == p.stdout.strip(),
      "README's anomaly table equals --list-anomalies (22 kinds)")

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

# damaged captures: the message names the file and the packet, the rest is analysed
tmp = tempfile.mkdtemp()
try:
    data = open(HTTP, "rb").read()
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 30])  # the last record loses its tail
    p = run(["-r", cut, "-F", "json"])
    check(p.returncode == 3, "truncated file: exit 3")
    check("cut.pcap" in p.stderr and "packet 24" in p.stderr, "truncated file: message names file and packet")
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
finally:
    shutil.rmtree(tmp)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all CLI checks passed")
