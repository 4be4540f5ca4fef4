#!/usr/bin/env python3
"""The pictures as a reader sees them: `tcpphase ladder` and `tcpphase timeline`.

Ladders of real captures must show what the CLI's --segments reports, frame
by frame: one arrow per segment in frame order, drawn from the sender's line
to the receiver's, labelled with the step and with the flags, seq/ack
relative to the ISNs (checked against the capture's own bytes) and length;
retransmissions dashed, anomalies in red with their names, and each
endpoint's states in the order the CLI reports them. A long gap is cut short
and marked. The timeline of the SYN flood capture must shade the CLI's alert
from its start to its end (read off the time axis as a user would), draw the
thresholds where the value axis puts them, and peak at the alert's
peak_half_open. A long connection (8,317 segments) is folded by default: its
arrows and fold rows add up to the CLI's segments, each fold a whole run of
plain data segments with their count and bytes; --all draws every segment
and warns about the height; --frames draws exactly its range and one row
for the rest on either side. Every picture is rendered to PNG by
rsvg-convert (librsvg), which must succeed with a picture of the SVG's size
that is not blank; the README's two pictures in docs/ must be what the CLI
draws now.

usage: check_svg.py TCPPHASE_BINARY TEST_CAPTURES_DIR DOCS_DIR
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib
from tputil import check, finish, jsonl

BIN, CAPS, DOCS = sys.argv[1], sys.argv[2], sys.argv[3]
NS = "{http://www.w3.org/2000/svg}"
RED = "#c0182b"


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, **kw)


def cap(name):
    return os.path.join(CAPS, name)


# ---- what the CLI reports, and what the capture holds ------------------------

def cli_segments(path, extra=()):
    p = run(["-r", path, "-s", "-F", "json", "--no-summary"] + list(extra), text=True)
    return [r for r in jsonl(p.stdout) if r["type"] == "segment"]


def tcp_of_pcap(path):
    """frame -> (seq, ack, flags) of each Ethernet/IPv4|IPv6/TCP record of a classic pcap."""
    data = open(path, "rb").read()
    out, off, frame = {}, 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        frame += 1
        etype = struct.unpack("!H", pkt[12:14])[0]
        if etype == 0x0800:
            ihl, proto, t = (pkt[14] & 15) * 4, pkt[23], 14 + (pkt[14] & 15) * 4
        elif etype == 0x86DD:
            proto, t = pkt[20], 14 + 40
        else:
            continue
        if proto != 6:
            continue
        seq, ack = struct.unpack("!II", pkt[t + 4:t + 12])
        out[frame] = (seq, ack, pkt[t + 13])
    return out


FLAG_NAMES = [("S", "SYN"), ("F", "FIN"), ("R", "RST"), ("P", "PSH"), ("U", "URG"), ("E", "ECE"), ("W", "CWR"),
              (".", "ACK")]


def flag_name(cli_flags):
    return "-".join(n for c, n in FLAG_NAMES if c in cli_flags) or "no flags"


def rel(value, base, sym):
    d = (value - base + 2**31) % 2**32 - 2**31
    return sym if d == 0 else f"{sym}{'+' if d > 0 else '-'}{abs(d)}"


def expected_bodies(path, segs):
    """The label text after the step, from the capture's bytes: 'FIN-ACK seq=J+22 ack=K+31'."""
    tcp = tcp_of_pcap(path)
    base = {}
    for s in segs:  # each side's ISN: its SYN's sequence number
        if "S" in s["flags"] and s["dir"] not in base:
            base[s["dir"]] = tcp[s["frame"]][0]
    sym = {"orig": "J", "resp": "K"}
    peer = {"orig": "resp", "resp": "orig"}
    out = {}
    for s in segs:
        seq, ack, _ = tcp[s["frame"]]
        body = f"{flag_name(s['flags'])} seq={rel(seq, base[s['dir']], sym[s['dir']])}"
        if "." in s["flags"]:
            body += f" ack={rel(ack, base[peer[s['dir']]], sym[peer[s['dir']]])}"
        if s["len"]:
            body += f" len={s['len']}"
        out[s["frame"]] = body
    return out, base


# ---- the SVG as a reader sees it -------------------------------------------

def classes(e):
    return (e.get("class") or "").split()


def all_of(root, tag, cls):
    return [e for e in root.iter(NS + tag) if cls in classes(e)]


def text(e):
    return "".join(e.itertext())


def ladder_view(svg_bytes):
    """Arrows in drawing order, each: frame, direction, dashed, colour, step, body, anomalies; the
    states written beside each line, top to bottom; gap marks."""
    root = ET.fromstring(svg_bytes)
    x_orig = float(all_of(root, "line", "lifeline")[0].get("x1"))
    lifelines = {"orig": x_orig}
    for l in all_of(root, "line", "lifeline"):
        lifelines["orig" if "orig" in classes(l) else "resp"] = float(l.get("x1"))
    arrows = []
    for g in all_of(root, "g", "segment"):
        line = [e for e in g if "arrow" in classes(e)][0]
        head = [e for e in g if "arrowhead" in classes(e)][0]
        label = [e for e in g if "label" in classes(e)][0]
        step = "".join(text(t) for t in label if "step" in classes(t))
        anom = [e for e in g if "anomalies" in classes(e)]
        tip_x = float(head.get("points").split()[0].split(",")[0])
        x1 = float(line.get("x1"))
        arrows.append({
            "frame": int(g.get("data-frame")),
            "y": float(line.get("y1")),
            "from": "orig" if abs(x1 - lifelines["orig"]) < 0.5 else "resp" if abs(x1 - lifelines["resp"]) < 0.5 else "?",
            "to": "orig" if abs(tip_x - lifelines["orig"]) < 0.5 else "resp" if abs(tip_x - lifelines["resp"]) < 0.5 else "?",
            "dashed": line.get("stroke-dasharray") is not None,
            "stroke": line.get("stroke"),
            "step": step,
            "body": text(label)[len(step):].strip(),
            "anomalies": text(anom[0]).lstrip("\u26a0 ").split(", ") if anom else [],
            "anomaly_fill": anom[0].get("fill") if anom else None,
        })
    states = {}
    for side in ("orig", "resp"):
        st = [e for e in all_of(root, "text", "state") if side in classes(e)]
        states[side] = [text(e) for e in sorted(st, key=lambda e: float(e.get("y")))]
    frames = [text(e) for e in sorted(all_of(root, "text", "frame"), key=lambda e: float(e.get("y")))]
    gaps = [text(e) for e in all_of(root, "text", "gap")]
    breaks = len(all_of(root, "line", "break"))
    return {"root": root, "arrows": arrows, "states": states, "frames": frames, "gaps": gaps, "breaks": breaks,
            "height": float(root.get("height")), "isn": text(all_of(root, "text", "isn")[0])}


def dedupe(seq):
    out = []
    for s in seq:
        if not out or out[-1] != s:
            out.append(s)
    return out


def check_ladder(name, path, segs, view, label_must=()):
    """Everything a reader checks in a ladder against the CLI's --segments."""
    arrows = view["arrows"]
    check(len(arrows) == len(segs), f"{name}: {len(segs)} arrows (got {len(arrows)})")
    check([a["frame"] for a in arrows] == [s["frame"] for s in segs], f"{name}: arrows in frame order")
    ys = [a["y"] for a in arrows]
    check(ys == sorted(ys) and len(set(ys)) == len(ys), f"{name}: time runs down, one row per arrow")
    check(view["frames"] == [f"#{s['frame']}" for s in segs], f"{name}: frame numbers written beside the rows")
    bodies, base = expected_bodies(path, segs)
    check(f"J = {base['orig']} " in view["isn"] and f"K = {base['resp']} " in view["isn"],
          f"{name}: the absolute ISNs noted once (J = {base['orig']}, K = {base['resp']})")
    for a, s in zip(arrows, segs):
        other = "resp" if s["dir"] == "orig" else "orig"
        f = s["frame"]
        check(a["from"] == s["dir"] and a["to"] == other, f"{name} #{f}: arrow from {s['dir']} to {other}")
        want_step = (s["step"] + (" rtx" if s["rtx"] else "")) if s["step"] else ""
        check(a["step"] == want_step, f"{name} #{f}: step '{want_step}' (got '{a['step']}')")
        check(a["body"] == bodies[f], f"{name} #{f}: label '{bodies[f]}' (got '{a['body']}')")
        check(a["dashed"] == s["rtx"], f"{name} #{f}: {'dashed' if s['rtx'] else 'solid'} (rtx {s['rtx']})")
        check(a["anomalies"] == s["anomalies"], f"{name} #{f}: anomalies {s['anomalies']} (got {a['anomalies']})")
        if s["anomalies"]:
            check(a["anomaly_fill"] == RED and a["stroke"] == RED, f"{name} #{f}: anomaly and arrow in red")
        else:
            check(a["stroke"] != RED, f"{name} #{f}: no anomaly, not red")
    for frame, want in label_must:
        a = [x for x in arrows if x["frame"] == frame]
        got = a and (a[0]["step"] + "  " + a[0]["body"])
        check(bool(a) and want in got, f"{name} #{frame}: reads '{want}' (got '{got}')")
    for side in ("orig", "resp"):
        want = dedupe(s[f"{side}_state"] for s in segs)
        check(view["states"][side] == want,
              f"{name}: {side} states in the CLI's order {want} (got {view['states'][side]})")


def ladder(path, conn, out, extra=()):
    p = run(["ladder", "-r", path, "--conn", conn, "-o", out] + list(extra))
    return p, open(out, "rb").read() if p.returncode == 0 and os.path.exists(out) else b""


# ---- PNG, read with the standard library ------------------------------------

def png_pixels(path):
    """(width, height, rows of RGBA tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    off, idat, ihdr = 8, b"", None
    while off < len(data):
        n, kind = struct.unpack("!I4s", data[off:off + 8])
        body = data[off + 8:off + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack("!IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        off += 12 + n
    w, h, depth, ctype = ihdr[:4]
    assert depth == 8 and ctype in (2, 6), f"unexpected PNG type {depth}/{ctype}"
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def check_png(name, svg_path, colour_test, colour_name):
    png = svg_path[:-4] + ".png"
    p = subprocess.run(["rsvg-convert", "-b", "white", "-o", png, svg_path], capture_output=True, text=True)
    check(p.returncode == 0 and os.path.exists(png), f"{name}: rsvg-convert renders it ({p.stderr.strip()[:200]})")
    if p.returncode != 0:
        return
    root = ET.parse(svg_path).getroot()
    w, h, rows, bpp = png_pixels(png)
    check((w, h) == (int(root.get("width")), int(root.get("height"))) and w >= 600 and h >= 400,
          f"{name}: PNG {w}x{h}, the SVG's size")
    size = os.path.getsize(png)
    check(size > 15000, f"{name}: PNG of {size} bytes is not trivial")
    ink = coloured = 0
    for line in rows:
        for i in range(0, len(line), bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            ink += r + g + b < 600
            coloured += colour_test(r, g, b)
    check(0.01 < ink / (w * h) < 0.5, f"{name}: {100 * ink / (w * h):.1f}% of the pixels are ink (text, lines)")
    check(coloured > 200, f"{name}: {coloured} pixels of {colour_name}")


# ---- the ladders --------------------------------------------------------------

def ladders(tmp):
    lfa = cap("lost-final-ack.pcap")
    segs = cli_segments(lfa)
    uid = segs[0]["uid"]
    svg_path = os.path.join(tmp, "lfa.svg")
    p, svg = ladder(lfa, uid, svg_path)
    check(p.returncode == 0 and svg, f"ladder --conn {uid} -o lfa.svg: exit 0 ({p.stderr.decode()[:200]})")
    if not svg:
        return
    view = ladder_view(svg)
    check_ladder("lost-final-ack", lfa, segs, view, [
        (1, "HS 1/3  SYN seq=J"), (2, "HS 2/3  SYN-ACK seq=K ack=J+1"), (3, "HS 3/3  ACK seq=J+1 ack=K+1"),
        (8, "FIN 1/4  FIN-ACK"), (9, "FIN 2/4  ACK"), (10, "FIN 3/4  FIN-ACK"), (11, "FIN 4/4  ACK"),
        (12, "FIN 3/4 rtx  FIN-ACK"), (13, "FIN 4/4 rtx  ACK")])
    a = {x["frame"]: x for x in view["arrows"]}
    check(a[12]["dashed"] and a[12]["anomalies"] == ["lost_final_ack", "fin_retransmit"],
          "lost-final-ack #12: the retransmitted FIN dashed, red lost_final_ack, fin_retransmit")
    check(a[11]["anomalies"] == ["lost_final_ack"], "lost-final-ack #11: the lost final ACK marked (a late verdict)")
    check(view["states"]["resp"][-2:] == ["LAST-ACK", "CLOSED"],
          "lost-final-ack: the server stays in LAST-ACK until the second final ACK (the amended states)")
    check(not view["gaps"] and view["breaks"] == 0, "lost-final-ack: no gap over 0.55 s, none compressed")
    check_png("lost-final-ack ladder", svg_path, lambda r, g, b: r > 150 and g < 80 and b < 90, "anomaly red")

    # the same connection chosen by a frame, by its endpoints (either way round, as records print
    # them), and read from standard input (two passes over a spooled copy)
    for conn in ("12", "10.99.0.2:8010-10.99.0.1:40010", "10.99.0.1:40010 -> 10.99.0.2:8010"):
        q, other = ladder(lfa, conn, os.path.join(tmp, "sel.svg"))
        check(q.returncode == 0 and other == svg, f"ladder --conn '{conn}': the same picture")
    q = subprocess.run([BIN, "ladder", "-r", "-", "--conn", "12", "-o", "-"], input=open(lfa, "rb").read(),
                       capture_output=True)
    check(q.returncode == 0 and q.stdout == svg.replace(b"lost-final-ack.pcap", b"&lt;stdin&gt;"),
          "ladder -r - --conn 12 -o -: the same picture from standard input, as SVG on standard output")
    q = run(["ladder", "-r", lfa, "--conn", "99"], text=True)
    check(q.returncode == 1 and "frame 99" in q.stderr, f"--conn 99 (no such frame): exit 1 ({q.stderr.strip()})")
    q = run(["ladder", "-r", lfa, "--conn", "CAAAAAAAAAAAAAAAAA"], text=True)
    check(q.returncode == 1 and "no such connection" in q.stderr, "--conn UID not in the capture: exit 1")
    q = run(["ladder", "-r", lfa, "--conn", "nonsense"], text=True)
    check(q.returncode == 1, "--conn nonsense: exit 1")
    q = run(["ladder", "--help"], text=True)
    check(q.returncode == 0 and "--conn" in q.stdout and "--flood-window" in q.stdout, "ladder --help")

    # the text ladder (what a terminal gets), here asked for by the .txt name
    txt = os.path.join(tmp, "lfa.txt")
    q = run(["ladder", "-r", lfa, "--conn", uid, "-o", txt], text=True)
    rows = [l for l in open(txt).read().splitlines() if l[:7].strip().isdigit()] if q.returncode == 0 else []
    check([int(l[:7]) for l in rows] == list(range(1, 14)), "text ladder: 13 rows in frame order")
    if len(rows) == 13:
        check("|" in rows[0] and rows[0].rstrip().endswith("SYN-RECEIVED") and "->|" in rows[0],
              "text ladder #1: SYN to the right, server SYN-RECEIVED")
        check("|<-" in rows[1] and "SYN-ACK seq=K ack=J+1" in rows[1], "text ladder #2: SYN-ACK to the left")
        check("- -" in rows[12] and "!!" not in rows[12], "text ladder #13: retransmission dashed")
        check(rows[11].endswith("!! lost_final_ack, fin_retransmit"), "text ladder #12: anomalies named")

    # the 3-segment close and the simultaneous close
    for name, must in (("three-segment", [(8, "FIN 1/4  FIN-ACK"), (9, "FIN 2+3/4  FIN-ACK seq=K+"),
                                          (10, "FIN 4/4  ACK")]),
                       ("simultaneous-close", [(8, "FIN 1/4  FIN-ACK"), (9, "SIM-CLOSE FIN  FIN-ACK"),
                                               (10, "SIM-CLOSE ACK  ACK"), (11, "SIM-CLOSE ACK  ACK")])):
        path, out = cap(name + ".pcap"), os.path.join(tmp, name + ".svg")
        segs = cli_segments(path)
        q, svg = ladder(path, segs[0]["uid"], out)
        check(q.returncode == 0 and svg, f"ladder of {name}: exit 0")
        if svg:
            check_ladder(name, path, segs, ladder_view(svg), must)
    sim = ladder_view(open(os.path.join(tmp, "simultaneous-close.svg"), "rb").read())
    check(sim["states"]["orig"][-2:] == ["CLOSING", "TIME-WAIT"] and "CLOSING" in sim["states"]["resp"],
          "simultaneous-close: both sides through CLOSING")
    # #7 -> #8 is 1.52 s of silence: cut short and marked
    a = {x["frame"]: x for x in sim["arrows"]}
    check(sim["gaps"] == ["\u2248 1.520003 s later (gap compressed)"] and sim["breaks"] == 6,
          f"simultaneous-close: the 1.52 s gap marked on the axis and both lines ({sim['gaps']})")
    check(a[8]["y"] - a[7]["y"] < 200 * 1.52, "simultaneous-close: the gap drawn shorter than to scale")
    check_png("simultaneous-close ladder", os.path.join(tmp, "simultaneous-close.svg"),
              lambda r, g, b: r > 150 and g < 80 and b < 90, "anomaly red")

    # half-close: 2 s of CLOSE-WAIT in 200 ms steps, drawn to scale, no gap compressed
    path, out = cap("half-close.pcap"), os.path.join(tmp, "half-close.svg")
    segs = cli_segments(path)
    q, svg = ladder(path, segs[0]["uid"], out)
    if svg:
        view = ladder_view(svg)
        check_ladder("half-close", path, segs, view)
        check(view["states"]["resp"].count("CLOSE-WAIT") == 1 and not view["gaps"],
              "half-close: CLOSE-WAIT written once, where it begins; 200 ms gaps not compressed")

    long_gap(tmp)


def write_pcap(path, packets):
    """packets: (time s, src, sport, dst, dport, seq, ack, flags, payload) as Ethernet/IPv4/TCP."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for t, src, sp, dst, dp, seq, ack, flags, data in packets:
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 64240, 0, 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, bytes(src), bytes(dst)) + tcp
        frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip
        out += struct.pack("<IIII", int(t), round((t - int(t)) * 1e6), len(frame), len(frame)) + frame
    open(path, "wb").write(out)


def long_gap(tmp):
    """A connection idle for 90 s between its request and its close."""
    c, s = (10, 0, 0, 1), (10, 0, 0, 2)
    S, A, P, F = 0x02, 0x10, 0x08, 0x01
    t0 = 1700000000.0
    path = os.path.join(tmp, "idle.pcap")
    write_pcap(path, [
        (t0, c, 5000, s, 80, 1000, 0, S, b""),
        (t0 + 0.001, s, 80, c, 5000, 7000, 1001, S | A, b""),
        (t0 + 0.002, c, 5000, s, 80, 1001, 7001, A, b""),
        (t0 + 0.003, c, 5000, s, 80, 1001, 7001, P | A, b"0123456789"),
        (t0 + 0.004, s, 80, c, 5000, 7001, 1011, A, b""),
        (t0 + 90.004, c, 5000, s, 80, 1011, 7001, F | A, b""),
        (t0 + 90.005, s, 80, c, 5000, 7001, 1012, F | A, b""),
        (t0 + 90.006, c, 5000, s, 80, 1012, 7002, A, b""),
    ])
    segs = cli_segments(path)
    out = os.path.join(tmp, "idle.svg")
    q, svg = ladder(path, "10.0.0.1:5000-10.0.0.2:80", out)
    check(q.returncode == 0 and svg, "ladder of a constructed capture with 90 s of silence")
    if not svg:
        return
    view = ladder_view(svg)
    check_ladder("idle", path, segs, view, [(6, "FIN 1/4  FIN-ACK seq=J+11 ack=K+1"), (7, "FIN 2+3/4")])
    check(view["gaps"] == ["\u2248 90.000000 s later (gap compressed)"], f"idle: the 90 s gap marked ({view['gaps']})")
    check(view["height"] < 900, f"idle: 90 s take no more room than a short gap (height {view['height']:.0f})")


# ---- long connections: folded, a range of frames, the size warning -------------

FOLD_MIN = 8  # the shortest run of plain data segments drawn as one row


def is_plain(s, prev):
    """A data segment whose arrow would say nothing new: no step, rtx, anomaly or state change."""
    return (prev is not None and s["phase"] == "data" and not s["step"] and not s["rtx"] and not s["anomalies"]
            and s["orig_state"] == prev["orig_state"] and s["resp_state"] == prev["resp_state"])


def folds_of(root):
    """Fold rows top to bottom: first and last frame, count, hidden, y, label and bytes text."""
    out = []
    for g in all_of(root, "g", "fold"):
        band = [e for e in g if "fold-band" in classes(e)][0]
        label = [text(e) for e in g if "fold-label" in classes(e)]
        nbytes = [text(e) for e in g if "fold-bytes" in classes(e)]
        out.append({"first": int(g.get("data-first-frame")), "last": int(g.get("data-last-frame")),
                    "n": int(g.get("data-segments")), "hidden": "hidden" in classes(g),
                    "y": float(band.get("y")) + 13, "label": label[0] if label else "",
                    "bytes": nbytes[0] if nbytes else ""})
    return sorted(out, key=lambda f: f["y"])


def rows_of(view):
    """Arrows and folds in drawing order, as ("seg", frame) and ("fold", fold)."""
    rows = [(a["y"], ("seg", a["frame"])) for a in view["arrows"]]
    rows += [(f["y"], ("fold", f)) for f in folds_of(view["root"])]
    return [r for _, r in sorted(rows, key=lambda r: r[0])]


def check_folded(name, segs, view):
    """A default ladder: every segment once, in frame order, either an arrow or in a fold; every fold a
    maximal run of at least FOLD_MIN plain data segments with its count and bytes each way; every other such
    run drawn; the states still in the CLI's order."""
    pos = {s["frame"]: i for i, s in enumerate(segs)}
    order, ok_runs = [], True
    for kind, x in rows_of(view):
        if kind == "seg":
            order.append(x)
            continue
        run = segs[pos[x["first"]]:pos[x["last"]] + 1]
        order += [s["frame"] for s in run]
        i0 = pos[x["first"]]
        plain = all(is_plain(s, segs[i0 + k - 1] if i0 + k else None) for k, s in enumerate(run))
        before = i0 > 0 and is_plain(segs[i0 - 1], segs[i0 - 2] if i0 > 1 else None)
        after = pos[x["last"]] + 1 < len(segs) and is_plain(segs[pos[x["last"]] + 1], run[-1])
        ok_runs &= check(not x["hidden"] and x["n"] == len(run) >= FOLD_MIN and plain and not before and not after,
                         f"{name}: fold #{x['first']}-#{x['last']} is a whole run of {x['n']} plain data segments")
        want = f"{len(run):,} data segments, frames #{x['first']}\u2013#{x['last']}, "
        check(want in x["label"], f"{name}: fold labelled '{want}...' ({x['label']})")
        c2s = sum(s["len"] for s in run if s["dir"] == "orig")
        s2c = sum(s["len"] for s in run if s["dir"] == "resp")
        want = f"{c2s:,} bytes client\u2192server, {s2c:,} server\u2192client"
        check(x["bytes"] == want, f"{name}: fold's bytes each way '{want}' (got '{x['bytes']}')")
    check(order == [s["frame"] for s in segs],
          f"{name}: {len(view['arrows'])} arrows and the folds' segments are the {len(segs)} segments, in order")
    run, drawn_long = 0, False
    drawn = {a["frame"] for a in view["arrows"]}
    for i, s in enumerate(segs):
        run = run + 1 if is_plain(s, segs[i - 1] if i else None) and s["frame"] in drawn else 0
        drawn_long |= run >= FOLD_MIN
    check(not drawn_long, f"{name}: no run of {FOLD_MIN} plain data segments drawn as arrows")
    for side in ("orig", "resp"):
        want = dedupe(s[f"{side}_state"] for s in segs)
        check(view["states"][side] == want, f"{name}: {side} states in the CLI's order (got {view['states'][side]})")


def long_connection(tmp):
    path = cap(os.path.join("zeek", "ftp__cwd-navigation.pcap"))
    segs = cli_segments(path)
    uid = segs[0]["uid"]
    check(len(segs) > 8000 and {s["uid"] for s in segs} == {uid}, f"ftp__cwd-navigation: one connection, "
          f"{len(segs)} segments")
    out = os.path.join(tmp, "ftp.svg")
    p, svg = ladder(path, uid, out)
    check(p.returncode == 0 and svg and not p.stderr, f"ftp ladder: exit 0, no warning ({p.stderr.decode()[:200]})")
    if not svg:
        return
    view = ladder_view(svg)
    check(len(svg) < 200000 and view["height"] < 32767,
          f"ftp ladder: small by default ({len(svg)} bytes, {view['height']:.0f} px)")
    check_folded("ftp ladder", segs, view)
    folds = folds_of(view["root"])
    check(len(folds) == 1 and folds[0]["label"].startswith("\u22ee 8,314 data segments, frames #4\u2013#8317, "),
          f"ftp ladder: the data phase folded into one row ({[f['label'] for f in folds]})")
    check(any("--all draws them" in text(e) for e in all_of(view["root"], "text", "legend")),
          "ftp ladder: the legend explains the fold")
    check_png("ftp ladder", out, lambda r, g, b: r == g == b == 244, "fold band")

    q, svg = ladder(path, uid, os.path.join(tmp, "ftp-all.svg"), ["--all"])
    err = q.stderr.decode()
    if svg:
        allv = ladder_view(svg)
        check([a["frame"] for a in allv["arrows"]] == [s["frame"] for s in segs] and not folds_of(allv["root"]),
              f"ftp ladder --all: every segment an arrow ({len(allv['arrows'])} of {len(segs)}), no fold")
        check(allv["height"] > 32767 and err.count("warning") == 1 and f"{allv['height']:,.0f} px" in err
              and "--frames A-B" in err and "#1 to #8317" in err,
              f"ftp ladder --all: one warning naming the height and --frames ({err.strip()})")
    else:
        check(False, f"ftp ladder --all: exit 0 ({err[:200]})")

    frames_range(tmp, path, uid, segs)

    txt = os.path.join(tmp, "ftp.txt")
    q = run(["ladder", "-r", path, "--conn", uid, "-o", txt], text=True)
    lines = open(txt).read().splitlines() if q.returncode == 0 else []
    check(len(lines) < 20 and any("8,314 data segments, frames #4-#8317, " in l and "bytes ->" in l for l in lines)
          and not q.stderr, f"ftp text ladder: {len(lines)} lines, the fold in one")
    q = run(["ladder", "-r", path, "--conn", uid, "--all", "-o", txt], text=True)
    check(q.returncode == 0 and "warning: the text ladder has 8,32" in q.stderr and "--frames" in q.stderr,
          f"ftp text ladder --all: a warning ({q.stderr.strip()[:160]})")

    # a fold between the handshake and the teardown: the rows after it keep their states
    ssh = cap(os.path.join("zeek", "ssh__ssh.pcap"))
    every = cli_segments(ssh)
    by_size = sorted({s["uid"] for s in every}, key=lambda u: -sum(s["uid"] == u for s in every))
    for uid in by_size[:2]:  # the two longest: data runs to fold between handshake and teardown
        segs = [s for s in every if s["uid"] == uid]
        q, svg = ladder(ssh, uid, os.path.join(tmp, uid + ".svg"))
        check(q.returncode == 0 and svg and segs, f"ssh ladder {uid}: exit 0")
        if svg and segs:
            check_folded(f"ssh ladder {uid}", segs, ladder_view(svg))


def frames_range(tmp, path, uid, segs):
    """--frames: the range drawn whole, one row for the rest either side, seq/ack still from the ISNs."""
    bodies, _ = expected_bodies(path, segs)
    for rng, lo, hi in (("100-150", 100, 150), ("8300-", 8300, 8317), ("-5", 1, 5)):
        q, svg = ladder(path, uid, os.path.join(tmp, "range.svg"), ["--frames", rng])
        check(q.returncode == 0 and svg and not q.stderr, f"ftp ladder --frames {rng}: exit 0, no warning")
        if not svg:
            continue
        view = ladder_view(svg)
        want = [s["frame"] for s in segs if lo <= s["frame"] <= hi]
        check([a["frame"] for a in view["arrows"]] == want, f"--frames {rng}: exactly frames #{lo}-#{hi} drawn")
        check(all(a["body"] == bodies[a["frame"]] for a in view["arrows"]),
              f"--frames {rng}: seq and ack relative to the whole connection's ISNs")
        hidden = [(f["first"], f["last"], f["n"]) for f in folds_of(view["root"])]
        before = [s["frame"] for s in segs if s["frame"] < lo]
        after = [s["frame"] for s in segs if s["frame"] > hi]
        expect = ([(before[0], before[-1], len(before))] if before else []) + \
                 ([(after[0], after[-1], len(after))] if after else [])
        check(hidden == expect and all(f["hidden"] for f in folds_of(view["root"])),
              f"--frames {rng}: one 'not shown' row each side {expect} (got {hidden})")
        if before:
            label = folds_of(view["root"])[0]["label"]
            check(label.endswith(f"frames #{before[0]}\u2013#{before[-1]} not shown ({len(before):,} segments)"),
                  f"--frames {rng}: '{label}'")
            check(len(view["states"]["orig"]) >= 1 and len(view["states"]["resp"]) >= 1,
                  f"--frames {rng}: both states written on the first row drawn")
        check_png(f"ftp ladder --frames {rng}", os.path.join(tmp, "range.svg"),
                  lambda r, g, b: r == g == b == 244, "'not shown' band")
    q = run(["ladder", "-r", path, "--conn", uid, "--frames", "9000-9100", "-o", os.path.join(tmp, "none.svg")],
            text=True)
    check(q.returncode == 1 and "#1 to #8317" in q.stderr and not os.path.exists(os.path.join(tmp, "none.svg")),
          f"--frames outside the connection: exit 1 naming its frames ({q.stderr.strip()})")
    for bad in ("0-5", "7-3", "-", "1-2-3", "x"):
        q = run(["ladder", "-r", path, "--conn", uid, "--frames", bad, "-o", os.path.join(tmp, "bad.svg")], text=True)
        check(q.returncode == 1 and "--frames" in q.stderr, f"--frames {bad}: refused")


# ---- the timeline -------------------------------------------------------------

def axis_map(pairs):
    """A linear map from the tick labels a reader sees: [(value, pixel)] -> value -> pixel."""
    (v0, p0), (v1, p1) = pairs[0], pairs[-1]
    k = (p1 - p0) / (v1 - v0)
    return lambda v: p0 + (v - v0) * k


def timeline_view(svg_bytes):
    root = ET.fromstring(svg_bytes)
    xt = sorted((float(text(e)), float(e.get("x"))) for e in all_of(root, "text", "xtick"))
    y_ho = sorted((float(text(e)), float(e.get("y")) - 4) for e in all_of(root, "text", "half-open")
                  if "ytick" in classes(e))
    y_rate = sorted((float(text(e)), float(e.get("y")) - 4) for e in all_of(root, "text", "syn-rate")
                    if "ytick" in classes(e))
    return root, axis_map(xt), axis_map(y_ho), axis_map(y_rate)


def timeline_case(tmp, name, extra, expect_thresholds):
    flood = cap("syn-flood.pcap")
    p = run(["-r", flood, "-s", "-F", "json"] + extra, text=True)
    recs = jsonl(p.stdout)
    t0 = min(r["ts"] for r in recs if r["type"] == "segment")
    alerts = [r for r in recs if r.get("type") == "alert"]
    check(len(alerts) == 1, f"{name}: the CLI raises one flood alert")
    if not alerts:
        return
    al = alerts[0]
    out = os.path.join(tmp, name + ".svg")
    q = run(["timeline", "-r", flood, "--server", "10.99.0.2:8080", "-o", out] + extra, text=True)
    check(q.returncode == 0, f"{name}: timeline exit 0 ({q.stderr.strip()[:200]})")
    if q.returncode != 0:
        return
    root, X, Y_ho, Y_rate = timeline_view(open(out, "rb").read())
    rects = all_of(root, "rect", "flood")
    check(len(rects) == 1, f"{name}: one flood shaded")
    if rects:
        x0, w = float(rects[0].get("x")), float(rects[0].get("width"))
        want0, want1 = X(al["start"] - t0), X(al["end"] - t0)
        check(abs(x0 - want0) < 1.0 and abs(x0 + w - want1) < 1.0,
              f"{name}: shading from {al['start'] - t0:.3f} s to {al['end'] - t0:.3f} s on the time axis "
              f"(x {x0:.1f}..{x0 + w:.1f}, axis says {want0:.1f}..{want1:.1f})")
    ho, rate = expect_thresholds
    for cls, value, Y, opt in (("half-open", ho, Y_ho, "--flood-min-half-open"),
                               ("syn-rate", rate, Y_rate, "--flood-min-rate")):
        line = [e for e in all_of(root, "line", "threshold") if cls in classes(e)]
        label = [text(e) for e in all_of(root, "text", "threshold-label") if cls in classes(e)]
        check(len(line) == 1 and abs(float(line[0].get("y1")) - Y(value)) < 1.0,
              f"{name}: {cls} threshold line at {value} on its axis")
        check(len(label) == 1 and f"{value} " in label[0] and opt in label[0],
              f"{name}: {cls} threshold labelled ({label})")
    peak = al["peak_half_open"]
    labels = [text(e) for e in all_of(root, "text", "peak-label")]
    check(labels == [f"peak {peak}"], f"{name}: peak labelled {peak}, the alert's peak_half_open ({labels})")
    fl = [text(e) for e in all_of(root, "text", "flood-label")]
    check(len(fl) == 1 and f"peak {peak} half-open" in fl[0] and f"{al['syns']} SYNs" in fl[0],
          f"{name}: the alert's numbers by the shading ({fl})")
    path = [e for e in all_of(root, "path", "series") if "half-open" in classes(e)]
    ys = [float(pt.split(",")[1]) for pt in path[0].get("d").replace("M", "").replace("Z", "").split("L")] if path else []
    check(ys and abs(min(ys) - Y_ho(peak)) < 0.6,
          f"{name}: the half-open curve's highest point is {peak} on its axis "
          f"(y {min(ys) if ys else None}, axis {Y_ho(peak):.1f})")
    return out


def timelines(tmp):
    out = timeline_case(tmp, "syn-flood timeline", [], (100, 200))
    if out:
        check_png("syn-flood timeline", out, lambda r, g, b: r > 235 and 200 < g < 230 and 190 < b < 225,
                  "flood shading")
    # the CLI's flood options apply to the timeline as to the CLI
    timeline_case(tmp, "syn-flood timeline, lower thresholds",
                  ["--flood-min-half-open", "50", "--flood-min-rate", "150"], (50, 150))
    q = run(["timeline", "-r", cap("syn-flood.pcap"), "--server", "10.99.0.9:1", "-o", os.path.join(tmp, "x.svg")],
            text=True)
    check(q.returncode == 1 and "no TCP segment" in q.stderr, "timeline of a server not in the capture: exit 1")
    q = run(["timeline", "-r", cap("half-open.pcap"), "--server", "10.99.0.2:8009", "-o", "-"])
    if q.returncode == 0:
        root = ET.fromstring(q.stdout)
        check(not all_of(root, "rect", "flood") and
              any("no SYN flood" in text(e) for e in all_of(root, "text", "flood-label")),
              "timeline without a flood says so")
    else:
        check(False, "timeline of half-open.pcap: exit 0")


# ---- the README's pictures ------------------------------------------------------

def docs(tmp):
    for doc, args in (("ladder-lost-final-ack.svg",
                       ["ladder", "-r", cap("lost-final-ack.pcap"), "--conn", "10.99.0.1:40010-10.99.0.2:8010"]),
                      ("timeline-syn-flood.svg",
                       ["timeline", "-r", cap("syn-flood.pcap"), "--server", "10.99.0.2:8080"])):
        out = os.path.join(tmp, doc)
        q = run(args + ["-o", out])
        want = os.path.join(DOCS, doc)
        same = q.returncode == 0 and os.path.exists(want) and open(out, "rb").read() == open(want, "rb").read()
        check(same, f"docs/{doc} is what `tcpphase {' '.join(args[:1] + args[3:])}` draws now"
              + ("" if same else f" (regenerate: tcpphase {' '.join(args)} -o docs/{doc})"))


def readme_text_ladder():
    """The README's text ladder is what the CLI prints today."""
    readme = open(os.path.join(DOCS, "..", "README.md"), encoding="utf-8").read()
    head = "The text ladder of the same connection (the end of it):\n\n```\n"
    block = readme[readme.index(head) + len(head):].split("\n```")[0].splitlines() if head in readme else []
    with tempfile.NamedTemporaryFile(suffix=".txt") as t:
        q = run(["ladder", "-r", cap("lost-final-ack.pcap"), "--conn", "1", "-o", t.name], text=True)
        lines = open(t.name).read().splitlines()
    check(block and all(l in lines for l in block), "README's text ladder equals tcpphase ladder's output")


def main():
    if not shutil.which("rsvg-convert"):
        print("FAIL rsvg-convert not found: install librsvg2-bin (./setup.sh --deps-only does)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        ladders(tmp)
        long_connection(tmp)
        timelines(tmp)
        docs(tmp)
    readme_text_ladder()
    finish("\nall pictures as the CLI reports")
    return 0


sys.exit(main())
