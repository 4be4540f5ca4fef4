#!/usr/bin/env python3
"""Live capture: tcpphase -i on a veth in network namespaces this test creates.

Real kernel connections go through the veth while tcpphase captures it; then
tcpphase is stopped by SIGINT (and, in a second run, SIGTERM). It must exit 0
and write a record for every connection made, those still open included
(end "capture_end"), and the summary with "interrupted": true.

Needs root (ip netns). Where namespaces cannot be created the test says so
and exits 77, which ctest reports as skipped, never as passed.

usage: check_live.py TCPPHASE_BINARY
"""
import json
import os
import selectors
import signal
import subprocess
import sys
import time

from tputil import check, finish

BIN = os.path.abspath(sys.argv[1])
NS_C, NS_S = "tpl-cli", "tpl-srv"
C_ADDR, S_ADDR = "10.97.0.1", "10.97.0.2"


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p


def teardown():
    for ns in (NS_C, NS_S):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def setup():
    teardown()
    sh("ip", "netns", "add", NS_C)
    sh("ip", "netns", "add", NS_S)
    sh("ip", "-n", NS_C, "link", "add", "tpl0", "type", "veth", "peer", "name", "tpl1", "netns", NS_S)
    sh("ip", "-n", NS_C, "addr", "add", C_ADDR + "/24", "dev", "tpl0")
    sh("ip", "-n", NS_S, "addr", "add", S_ADDR + "/24", "dev", "tpl1")
    for ns, dev in ((NS_C, "tpl0"), (NS_S, "tpl1")):
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


SERVER = f"""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{S_ADDR}", 9000)); s.listen(16)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept()
    data = c.recv(100)
    if data.startswith(b"hold"):
        held.append(c)      # leave it open: still ESTABLISHED when capture stops
        continue
    c.sendall(b"pong")
    c.close()
"""

CLIENT = f"""
import socket, sys, time
n, base = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    c = socket.socket(); c.bind(("{C_ADDR}", base + i)); c.connect(("{S_ADDR}", 9000))
    c.sendall(b"ping"); c.recv(100); c.close()
h = socket.socket(); h.bind(("{C_ADDR}", base + 900)); h.connect(("{S_ADDR}", 9000)); h.sendall(b"hold")
print("done", flush=True)
time.sleep(30)
"""


def start_capture(*opts):
    """tcpphase -i on the client's veth (with opts) and the server, once
    tcpphase holds its packet socket (the only one in this fresh namespace),
    however slow a sanitizer build starts."""
    tp = subprocess.Popen(["ip", "netns", "exec", NS_C, BIN, "-i", "tpl0", "-F", "json"] + list(opts)
                          + ["tcp port 9000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    srv = subprocess.Popen(["ip", "netns", "exec", NS_S, sys.executable, "-c", SERVER],
                           stdout=subprocess.PIPE, text=True)
    srv.stdout.readline()
    deadline = time.time() + 15
    while time.time() < deadline and len(sh("cat", "/proc/net/packet", ns=NS_C).stdout.splitlines()) < 2:
        time.sleep(0.05)
    time.sleep(0.2)
    return tp, srv


def one_run(sig, n_closed, base):
    tp, srv = start_capture()
    cli = subprocess.Popen(["ip", "netns", "exec", NS_C, sys.executable, "-c", CLIENT, str(n_closed), str(base)],
                           stdout=subprocess.PIPE, text=True)
    cli.stdout.readline()
    time.sleep(0.5)  # the last FINs and ACKs cross the veth
    tp.send_signal(sig)
    try:
        out, err = tp.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        tp.kill()
        out, err = tp.communicate()
        check(False, f"{signal.Signals(sig).name}: tcpphase stops within 20 s")
    for p in (cli, srv):
        p.kill()
        p.wait()
    name = signal.Signals(sig).name
    check(tp.returncode == 0, f"{name}: exit 0 (got {tp.returncode}; {err.strip()[:200]})")
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    conns = [r for r in recs if r["type"] == "conn"]
    summ = [r for r in recs if r["type"] == "summary"]
    ports = sorted(r["id.orig_p"] for r in conns)
    want = [base + i for i in range(n_closed)] + [base + 900]
    check(ports == want, f"{name}: a record for each of the {len(want)} connections made (got ports {ports})")
    closed = [r for r in conns if r["id.orig_p"] != base + 900]
    check(all(r["conn_state"] == "SF" and r["handshake"] == "complete" for r in closed),
          f"{name}: the {n_closed} closed connections are SF with a complete handshake")
    held = [r for r in conns if r["id.orig_p"] == base + 900]
    check(len(held) == 1 and held[0]["end"] == "capture_end" and held[0]["orig_state"] == "ESTABLISHED"
          and held[0]["resp_state"] == "ESTABLISHED",
          f"{name}: the connection still open is reported, ESTABLISHED both ways, end capture_end")
    check(len(summ) == 1 and summ[0]["interrupted"] is True and summ[0]["connections"] == len(want),
          f"{name}: the summary says interrupted and counts {len(want)} connections")


IDLE_CLIENT = f"""
import socket, sys
c = socket.socket(); c.bind(("{C_ADDR}", int(sys.argv[1]))); c.connect(("{S_ADDR}", 9000))
c.sendall(b"ping"); c.recv(100); c.close()
print("done", flush=True)
"""


def idle_link_run(port):
    """One connection closes, then the link stays silent: its record must
    come out on the analyzer's timer (--linger 1), with no later packet to
    move the clock, and --stats-every must report while nothing happens."""
    tp, srv = start_capture("--linger", "1", "--stats-every", "0.5")
    cli = subprocess.run(["ip", "netns", "exec", NS_C, sys.executable, "-c", IDLE_CLIENT, str(port)],
                         capture_output=True, text=True)
    closed_at = time.time()
    got, stats, waited = None, 0, None
    sel = selectors.DefaultSelector()
    sel.register(tp.stdout, selectors.EVENT_READ)
    while time.time() < closed_at + 10 and got is None:
        if not sel.select(timeout=0.5):
            continue
        line = tp.stdout.readline()
        if not line:
            break
        rec = json.loads(line)
        stats += rec["type"] == "stats"
        if rec["type"] == "conn" and rec["id.orig_p"] == port:
            got, waited = rec, time.time() - closed_at
    tp.send_signal(signal.SIGINT)
    out, err = tp.communicate(timeout=20)
    srv.kill()
    srv.wait()
    check(cli.returncode == 0 and got is not None and got["conn_state"] == "SF" and waited < 5,
          f"idle link: the closed connection's record comes out {waited and round(waited, 1)} s after the close "
          f"(--linger 1; under 5 s) with no later packet (record: {got and got['conn_state']})")
    check(stats >= 2, f"idle link: --stats-every 0.5 wrote {stats} stats records while the link was silent")
    summ = [json.loads(l) for l in out.splitlines() if '"summary"' in l]
    check(tp.returncode == 0 and len(summ) == 1 and summ[0]["connections"] == 1,
          f"idle link: Ctrl-C then exit 0 and a summary of 1 connection ({err.strip()[:200]})")


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to create network namespaces")
        sys.exit(77)
    try:
        setup()
    except (RuntimeError, FileNotFoundError) as e:
        teardown()
        print(f"SKIP: cannot create network namespaces here: {e}")
        sys.exit(77)
    try:
        one_run(signal.SIGINT, 5, 41000)
        one_run(signal.SIGTERM, 3, 42000)
        idle_link_run(43000)
    finally:
        teardown()
    finish("all live-capture checks passed")


if __name__ == "__main__":
    main()
