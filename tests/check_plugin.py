#!/usr/bin/env python3
"""The Wireshark plugin against the CLI: the same analysis, frame by frame.

For every capture under TEST_CAPTURES_DIR (*.pcap, *.pcapng, subfolders
included) tshark with the plugin (`tshark -2`, so late verdicts are in) and
the tcpphase CLI (`--segments`) must say the same thing about every segment:
connection uid, direction, phase, step, both RFC 9293 states and the
anomalies. Each connection's completeness (tcpphase.conn.completeness) must
equal Wireshark's own tcp.completeness for its stream.

Frames that only one side sees as a TCP segment are decoding differences
(Wireshark decodes 802.11 or reassembles IP fragments, the CLI does not, ...):
they are listed by name with their reason, never silently dropped, and a
frame that no known reason explains fails the test. Verdicts on the frames
both sides see are compared whatever else happened in the capture.

Then what a user reads: `-z expert` lists the core's anomaly summaries,
`-z tcpphase,tree` prints the tree, `-o tcpphase.info_hint:TRUE` marks
"[HS 1/3]" in the Info column, and preference changes are accepted and act as
the CLI's options do.

tshark ignores WIRESHARK_PLUGIN_DIR when run as root, so as root it runs in a
user namespace (`unshare -U`), else under `setpriv` as nobody.

usage: check_plugin.py TCPPHASE_BINARY PLUGIN_DIR TEST_CAPTURES_DIR
"""
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from tputil import check, failures, finish, tshark_series

known = []  # (capture, what, reason)


# ---- running tshark with the plugin --------------------------------------

class Tshark:
    def __init__(self, plugin_dir):
        self.home = tempfile.mkdtemp(prefix="tp-plugin-home-")
        os.chmod(self.home, 0o755)
        self.env = dict(os.environ)
        # A clean profile: no personal preference of whoever runs the test.
        self.env.update(WIRESHARK_PLUGIN_DIR=plugin_dir, HOME=self.home,
                        WIRESHARK_CONFIG_DIR=os.path.join(self.home, "config"), LC_ALL="C")
        self.env.pop("WIRESHARK_RUN_FROM_BUILD_DIRECTORY", None)
        # As root, tshark ignores WIRESHARK_PLUGIN_DIR: unpriv.sh runs it in a
        # user namespace, or as nobody where that is refused (a chroot).
        unpriv = ["sh", os.path.join(os.path.dirname(os.path.abspath(__file__)), "unpriv.sh")]
        self.prefix = None
        out = self.run(["-G", "plugins"], prefix=unpriv)
        self.tried = [f"tests/unpriv.sh tshark: exit {out.returncode} {out.stderr.strip()[:200]}"]
        if out.returncode == 0 and re.search(r"^tcpphase\.so\s", out.stdout, re.M):
            self.prefix = unpriv
            self.plugins = out.stdout

    def run(self, args, prefix=None, plugin_dir=None, config_dir=None):
        p = self.prefix if prefix is None else prefix
        env = self.env if plugin_dir is None else dict(self.env, WIRESHARK_PLUGIN_DIR=plugin_dir)
        if config_dir is not None:
            env = dict(env, WIRESHARK_CONFIG_DIR=config_dir)
        return subprocess.run(p + ["tshark"] + args, capture_output=True, text=True, env=env)


# Wireshark's TCP preferences at their defaults, pinned so a changed default
# or profile cannot change what is compared.
TCP_PREFS = ["-o", "tcp.analyze_sequence_numbers:TRUE", "-o", "tcp.relative_sequence_numbers:TRUE",
             "-o", "tcp.check_checksum:FALSE", "-o", "tcp.desegment_tcp_streams:TRUE"]

FIELDS = ["frame.number", "tcpphase.uid", "tcpphase.dir", "tcpphase.phase", "tcpphase.step",
          "tcpphase.orig_state", "tcpphase.resp_state", "tcpphase.anomaly", "tcpphase.echo",
          "tcpphase.echoed_frame", "tcpphase.stream", "tcpphase.conn.completeness", "tcp.stream", "tcp.completeness",
          "frame.protocols", "tcp.len", "ip.fragment.count", "ipv6.fragment.count"]


def plugin_frames(ts, pcap, prefs=()):
    args = ["-2", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"] + TCP_PREFS
    args += list(prefs)
    for f in FIELDS:
        args += ["-e", f]
    p = ts.run(args)
    rows = {}
    for line in p.stdout.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        r = dict(zip(FIELDS, vals))
        rows[int(r["frame.number"])] = r
    return p, rows


# The CLI follows the rules of the Wireshark the plugin runs in (the plugin
# takes them from the series it was built for).
CLI_RULES = []


def cli_segments(binary, pcap, opts=()):
    p = subprocess.run([binary, "-r", pcap, "-F", "json", "--segments", "--no-summary"] + CLI_RULES + list(opts),
                       capture_output=True, text=True)
    segs = {}
    for line in p.stdout.splitlines():
        if line.strip():
            rec = json.loads(line)
            if rec.get("type") == "segment":
                segs[rec["frame"]] = rec
    return p, segs


def plugin_view(r):
    an = [a for a in r["tcpphase.anomaly"].split("|") if a]
    return {"uid": r["tcpphase.uid"], "dir": r["tcpphase.dir"], "phase": r["tcpphase.phase"],
            "step": r["tcpphase.step"], "orig_state": r["tcpphase.orig_state"],
            "resp_state": r["tcpphase.resp_state"], "anomalies": sorted(an),
            "echo": r["tcpphase.echo"], "echoed_frame": r["tcpphase.echoed_frame"]}


def cli_view(s):
    return {"uid": s["uid"], "dir": s["dir"], "phase": s["phase"], "step": s["step"],
            "orig_state": s["orig_state"], "resp_state": s["resp_state"],
            "anomalies": sorted(s["anomalies"]),
            "echo": s.get("echo", ""), "echoed_frame": str(s.get("echoed_frame", ""))}


# ---- decoding differences: why only one side saw a segment -----------------

def explain_only_plugin(r):
    """Why Wireshark found a TCP segment in a frame the CLI did not."""
    protos = r["frame.protocols"].split(":")
    if "wlan" in protos or "wlan_radio" in protos:
        return "802.11: Wireshark decodes 802.11 frames, the CLI does not"
    if "aruba_erm" in protos or "aruba_papi" in protos:
        return "Aruba GRE/ERM: Wireshark decodes it, the CLI does not"
    if r["ip.fragment.count"] or r["ipv6.fragment.count"]:
        # (With ip.defragment:FALSE Wireshark still dissects the TCP header in
        # a tunnel's first fragment, so no setting makes the two agree.)
        return "IP fragments: Wireshark reassembles them, the CLI counts and skips fragments"
    return None


def explain_only_cli(r):
    """Why the CLI found a TCP segment in a frame where the plugin has none."""
    if r is None:
        return None
    protos = r["frame.protocols"].split(":")
    if "tcp" not in protos:
        return f"Wireshark decodes this frame as {r['frame.protocols']} (no TCP)"
    if not r["tcp.len"]:
        return "Wireshark shows a TCP header but no segment (short or quoted header)"
    return None


# ---- one capture ---------------------------------------------------------

# Wireshark's Teredo heuristic is off by default; the CLI, like Zeek, takes a
# UDP datagram on any port for Teredo when it holds a well-formed IPv6 packet.
TEREDO_HEURISTIC = ["--enable-heuristic", "teredo_udp"]


def compare_capture(ts, binary, pcap, name, prefs=(), opts=(), label=""):
    tp, rows = plugin_frames(ts, pcap, prefs)
    cp, segs = cli_segments(binary, pcap, opts)
    tag = name + label
    if not check(tp.returncode == 0, f"{tag}: tshark -2 exit {tp.returncode} {tp.stderr.strip()[:300]}"):
        return None
    if cp.returncode not in (0, 3):
        check(False, f"{tag}: tcpphase CLI exit {cp.returncode}: {cp.stderr.strip()[:300]}")
        return None
    if cp.returncode == 3:
        known.append((tag, "damaged capture", "CLI exit 3: " + cp.stderr.strip().splitlines()[-1][:200]))

    plug = {n: r for n, r in rows.items() if r["tcpphase.uid"]}
    only_p = sorted(set(plug) - set(segs))
    only_c = sorted(set(segs) - set(plug))
    unexplained = []
    reasons = collections.Counter()
    rerun = None
    for n in only_p:
        why = explain_only_plugin(plug[n])
        if why:
            reasons["plugin only: " + why] += 1
        else:
            unexplained.append(f"frame {n}: plugin sees a segment ({plug[n]['frame.protocols']}), "
                               f"the CLI does not")
    udp_only = [n for n in only_c if n in rows and "udp" in rows[n]["frame.protocols"].split(":")
                and "tcp" not in rows[n]["frame.protocols"].split(":")]
    teredo = set()
    if udp_only and TEREDO_HEURISTIC[1] not in prefs:
        _, rows2 = plugin_frames(ts, pcap, list(prefs) + TEREDO_HEURISTIC)
        teredo = set(n for n in udp_only if rows2.get(n, {}).get("tcpphase.uid"))
        if teredo:
            rerun = list(prefs) + TEREDO_HEURISTIC
    for n in only_c:
        if n in teredo:
            reasons["CLI only: Teredo on a port other than 3544: the CLI takes it for Teredo as Zeek does, "
                    "Wireshark's Teredo heuristic is off by default (" + " ".join(TEREDO_HEURISTIC) + ")"] += 1
            continue
        why = explain_only_cli(rows.get(n))
        if why:
            reasons["CLI only: " + why] += 1
        else:
            unexplained.append(f"frame {n}: the CLI sees a segment, the plugin does not "
                               f"({rows[n]['frame.protocols'] if n in rows else 'no such frame in tshark'})")
    for why, n in sorted(reasons.items()):
        known.append((tag, f"{n} frame(s)", why))
        print(f"note {tag}: known decoding difference, {n} frame(s): {why}")
    check(not unexplained, f"{tag}: every frame only one side sees is explained"
          + ("" if not unexplained else ": " + "; ".join(unexplained[:10])))

    both = sorted(set(plug) & set(segs))
    # A connection only one side sees shifts the index, hence the uid, of
    # every later connection. Where the frames both sides see pair the
    # connections one to one, compare through that pairing and say so.
    renumber = {}
    if only_p or only_c:
        p2c, c2p = collections.defaultdict(set), collections.defaultdict(set)
        for n in both:
            p2c[plug[n]["tcpphase.uid"]].add(segs[n]["uid"])
            c2p[segs[n]["uid"]].add(plug[n]["tcpphase.uid"])
        if all(len(v) == 1 for v in p2c.values()) and all(len(v) == 1 for v in c2p.values()):
            renumber = {u: next(iter(v)) for u, v in p2c.items()}
            moved = sum(1 for u, c in renumber.items() if u != c)
            if moved:
                known.append((tag, f"{moved} connection uid(s) renumbered",
                              "a connection only one side decodes shifts the index of the later ones"))
                print(f"note {tag}: {moved} connection uid(s) renumbered by the decoding difference; "
                      "compared through the one-to-one pairing")
    diffs = []
    for n in both:
        a, b = plugin_view(plug[n]), cli_view(segs[n])
        a["uid"] = renumber.get(a["uid"], a["uid"])
        if a != b:
            keys = [k for k in a if a[k] != b[k]]
            diffs.append(f"frame {n}: " + ", ".join(f"{k} plugin={a[k]!r} cli={b[k]!r}" for k in keys))
    check(not diffs, f"{tag}: {len(both)} segments, plugin == CLI on every one"
          + ("" if not diffs else f" ({len(diffs)} differ)\n      " + "\n      ".join(diffs[:40])))
    if rerun:
        # The difference goes away with Wireshark's heuristic on: then all must agree.
        r = compare_capture(ts, binary, pcap, name, rerun, opts, label=label + " [" + " ".join(rerun) + "]")
        if r is not None:
            check(set(r[2]) == set(r[1]), f"{tag} [{' '.join(rerun)}]: both sides see the same segments")
    return rows, segs, plug


def check_completeness(name, rows, plug):
    """tcpphase.conn.completeness against Wireshark's tcp.completeness, per stream."""
    by_uid = collections.defaultdict(list)
    for n, r in sorted(plug.items()):
        by_uid[r["tcpphase.uid"]].append(n)
    stream_frames = collections.defaultdict(list)
    for n, r in sorted(rows.items()):
        # the stream of the TCP header the plugin analysed (tcpphase.stream)
        if r["tcpphase.stream"]:
            stream_frames[r["tcpphase.stream"]].append(n)
    uid_streams = {u: set(plug[n]["tcpphase.stream"] for n in fr) for u, fr in by_uid.items()}
    stream_uids = collections.defaultdict(set)
    for u, ss in uid_streams.items():
        for s in ss:
            stream_uids[s].add(u)
    bad, split, compared = [], [], 0
    for u, frames in by_uid.items():
        ss = uid_streams[u]
        if len(ss) != 1 or len(stream_uids[next(iter(ss))]) != 1:
            split.append(f"{u} ~ tcp.stream {sorted(ss)}")
            continue
        s = next(iter(ss))
        last = rows[stream_frames[s][-1]]
        mine = last["tcpphase.conn.completeness"]
        # With several TCP headers in the frame (ICMP quote, tunnel, A-MSDU)
        # tcp.completeness repeats; the stream's value is the same in each.
        theirs = last["tcp.completeness"].split("|")[-1] if last["tcp.completeness"] else ""
        if mine == theirs:
            compared += 1
            continue
        protos = set(p for n in stream_frames[s] for p in rows[n]["frame.protocols"].split(":"))
        multi = [n for n in stream_frames[s] if len(rows[n]["tcp.len"].split("|")) > 1]
        if mine and theirs and "ftp-data" in protos and int(mine) == int(theirs) | 1:
            known.append((name, f"{u} completeness {mine} vs tcp.completeness {theirs}",
                          "FTP data connection: Wireshark's FTP dissector set up its TCP conversation before "
                          "the SYN, so tcp.completeness leaves the SYN out"))
        elif multi:
            known.append((name, f"{u} completeness {mine} vs tcp.completeness {theirs}",
                          f"frame(s) {multi[:5]} carry several TCP segments (e.g. 802.11 A-MSDU): tcpphase "
                          "analyses one segment per frame, tcp.completeness counts them all"))
        else:
            bad.append(f"{u} (tcp.stream {s}): tcpphase {mine or '-'} tshark {theirs or '-'}")
    check(not bad, f"{name}: completeness == tcp.completeness for {compared} connection(s)"
          + ("" if not bad else "\n      " + "\n      ".join(bad[:20])))
    if split:
        # The core's default split follows tcp.stream; a difference is its
        # business (check_captures.py asserts it) but is reported here too.
        check(False, f"{name}: connections and tcp.streams map one to one: " + "; ".join(split[:10]))


# ---- what a user reads -----------------------------------------------------

def anomaly_table(src_dir):
    """name -> summary, from core/names.c: the one table (not from the plugin)."""
    text = open(os.path.join(src_dir, "core", "names.c")).read()
    table = {}
    for m in re.finditer(r'\{\s*TP_A_\w+,\s*"(\w+)",\s*TP_SEV_(\w+),\s*TP_GROUP_(\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}',
                         text):
        summary = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(4)))
        table[m.group(1)] = (m.group(2), m.group(3), summary)
    return table


def user_checks(ts, binary, caps, results, src_dir):
    table = anomaly_table(src_dir)
    check(len(table) >= 10, f"core/names.c: {len(table)} anomaly kinds read from the table")

    # Every anomaly kind is an expert info of the plugin, under its table name.
    g = ts.run(["-G", "fields"])
    registered = {}
    for line in g.stdout.splitlines():
        f = line.split("\t")
        if len(f) >= 5 and f[0] == "F" and f[2].startswith("tcpphase.anomaly."):
            registered[f[2][len("tcpphase.anomaly."):]] = f[1]
    missing = sorted(set(table) - set(registered))
    check(not missing, f"-G fields: an expert info tcpphase.anomaly.<name> for each of the {len(table)} kinds"
          + (f" (missing {missing})" if missing else ""))
    wrong = [n for n in table if n in registered and registered[n] != table[n][2]]
    check(not wrong, "-G fields: each expert info's summary is the table's" + (f" (differ: {wrong})" if wrong else ""))
    prefs = ts.run(["-G", "currentprefs"]).stdout
    for p in ("half_open_timeout", "syn_timeout", "idle_timeout", "half_closed_timeout", "max_conns",
              "max_embryonic", "flood_window", "flood_min_half_open", "flood_min_rate", "flood_min_spread", "key_context",
              "zeek_bare", "info_hint"):
        check(re.search(rf"^#?tcpphase\.{p}:", prefs, re.M) is not None, f"-G currentprefs lists tcpphase.{p}")

    # -z expert: every anomaly kind the captures show, listed with the
    # table's summary, severity and group (one capture per kind suffices).
    todo = {}
    for pcap, (rows, segs, plug) in sorted(results.items(), key=lambda kv: os.path.getsize(kv[0])):
        for n, sg in segs.items():
            for an in sg["anomalies"]:
                if n in plug and an not in todo:
                    todo[an] = pcap
    check(len(todo) > 0, f"the captures show {len(todo)} anomaly kind(s) for -z expert: {sorted(todo)}")
    headings = {"CHAT": "Chats", "NOTE": "Notes", "WARN": "Warns", "ERROR": "Errors"}
    expert_out = {}
    for an, pcap in sorted(todo.items()):
        if pcap not in expert_out:
            expert_out[pcap] = ts.run(["-2", "-q", "-r", pcap, "-z", "expert"] + TCP_PREFS).stdout
        sev, group, summary = table[an]
        heading = headings[sev]
        section = expert_out[pcap].split("\n" + heading + " (", 1)
        section = section[1].split("\n\n", 1)[0] if len(section) > 1 else ""
        want = sum(1 for n, sg in results[pcap][1].items() if an in sg["anomalies"] and n in results[pcap][2])
        line = next((l for l in section.splitlines() if "TCP Phase" in l and l.rstrip().endswith(summary)), "")
        m = re.match(r"\s*(\d+)\s+(\w+)\s+TCP Phase", line)
        check(m is not None and int(m.group(1)) == want and m.group(2) == group.capitalize(),
              f"-z expert on {os.path.basename(pcap)}: {an} listed under {heading} as "
              f"'{want}  {group.capitalize()}  TCP Phase  {summary}' (got {line.strip()!r})")

    # -z tcpphase,tree on the capture with the most connections: the counts
    # a user reads equal the CLI's records.
    pcap = max(results, key=lambda k: (len(set(sg["uid"] for sg in results[k][1].values())), k))
    p = ts.run(["-2", "-q", "-r", pcap, "-z", "tcpphase,tree"] + TCP_PREFS)
    tree = parse_stats_tree(p.stdout)
    cli = subprocess.run([binary, "-r", pcap, "-F", "json", "--segments", "--conns", "--no-summary"] + CLI_RULES,
                         capture_output=True, text=True).stdout
    recs = [json.loads(l) for l in cli.splitlines() if l.strip()]
    conns = [r for r in recs if r["type"] == "conn"]
    alerts = [r for r in recs if r["type"] == "alert" and r.get("alert") == "syn_flood"]
    segs = [r for r in recs if r["type"] == "segment"]
    base = os.path.basename(pcap)
    check("TCP Phases:" in p.stdout, f"-z tcpphase,tree on {base} prints the tree")
    check(tree.get(("Connections",)) == len(conns),
          f"tree: Connections {tree.get(('Connections',))} == CLI's {len(conns)} records")
    for key, title in (("handshake", "by handshake"), ("teardown", "by teardown"), ("conn_state", "by Zeek conn_state")):
        want = collections.Counter(r[key] for r in conns)
        got = {k[2]: v for k, v in tree.items() if len(k) == 3 and k[:2] == ("Connections", title)}
        check(got == dict(want), f"tree: connections {title} {got} == CLI's {dict(want)}")
    want = collections.Counter(a for sg in segs for a in sg["anomalies"])
    got = {k[1]: v for k, v in tree.items() if len(k) == 2 and k[0] == "Anomalies (segments)"}
    check(got == dict(want), f"tree: anomalies by kind {got} == CLI's segment counts {dict(want)}")
    want = collections.Counter(f"{r['id.resp_h']}:{r['id.resp_p']}" for r in conns if r["handshake"] == "half_open")
    got = {k[1]: v for k, v in tree.items() if len(k) == 2 and k[0] == "Half-open connections by server"}
    check(got == dict(want), f"tree: half-open connections by server {got} == CLI's {dict(want)}")
    got = tree.get(("SYN floods by server",), 0)
    check(got == len(alerts), f"tree: SYN floods {got} == CLI's {len(alerts)} syn_flood alert(s)")
    for a in alerts:
        node = ("SYN floods by server", f"{a['server']}:{a['port']}", "peak half-open")
        check(node in tree, f"tree: flood toward {a['server']}:{a['port']} with its peak half-open")

    # info_hint: "[HS 1/3]" on a SYN in the Info column, and gone when turned off.
    syn = None
    for pcap, (rows, segs, plug) in sorted(results.items()):
        for n, sg in sorted(segs.items()):
            if sg["step"] == "HS 1/3" and n in plug and not sg["rtx"]:
                syn = (pcap, n)
                break
        if syn:
            break
    if check(syn is not None, "some capture has a SYN for the Info column check"):
        pcap, n = syn
        on = ts.run(["-2", "-r", pcap, "-Y", f"frame.number=={n}", "-o", "tcpphase.info_hint:TRUE"] + TCP_PREFS)
        off = ts.run(["-2", "-r", pcap, "-Y", f"frame.number=={n}", "-o", "tcpphase.info_hint:FALSE"] + TCP_PREFS)
        check("[HS 1/3]" in on.stdout, f"info_hint:TRUE puts [HS 1/3] in the Info column of "
              f"{os.path.basename(pcap)} frame {n}: {on.stdout.strip()[:160]}")
        check(off.returncode == 0 and "[HS 1/3]" not in off.stdout, "info_hint:FALSE leaves the Info column alone")
        flt = ts.run(["-2", "-r", pcap, "-Y", 'tcpphase.step == "HS 1/3"', "-T", "fields", "-e", "frame.number"]
                     + TCP_PREFS)
        check(str(n) in flt.stdout.split(), 'display filter tcpphase.step == "HS 1/3" finds the SYN')

    # A display filter on an anomaly, by the table's name.
    for an, pcap in sorted(todo.items())[:3]:
        flt = ts.run(["-2", "-r", pcap, "-Y", f'tcpphase.anomaly == "{an}"', "-T", "fields", "-e", "frame.number"]
                     + TCP_PREFS)
        want = sorted(n for n, sg in results[pcap][1].items() if an in sg["anomalies"] and n in results[pcap][2])
        got = sorted(int(x) for x in flt.stdout.split())
        check(got == want, f'{os.path.basename(pcap)}: tcpphase.anomaly == "{an}" matches the {len(want)} '
              "frame(s) the CLI flags")

    # Preferences: an unknown one is refused; each one acts as the CLI's option.
    smallest = min(results, key=os.path.getsize)
    bad = ts.run(["-r", smallest, "-c", "1", "-o", "tcpphase.no_such_pref:1"])
    check(bad.returncode != 0 and "tcpphase.no_such_pref" in bad.stderr, "an unknown tcpphase preference is refused")
    for prefs, opts in PREF_PAIRS:
        shown = " ".join(prefs)
        affected = None
        for pcap in sorted(results, key=os.path.getsize):
            # both runs now, so a capture rewritten meanwhile cannot mislead
            if cli_segments(binary, pcap, opts)[1] != cli_segments(binary, pcap)[1]:
                affected = pcap
                break
        pcap = affected or smallest
        args = [x for p in prefs for x in ("-o", p)]
        r = compare_capture(ts, binary, pcap, os.path.basename(pcap), args, opts, label=f" [{shown}]")
        if not check(r is not None, f"-o {shown}: accepted"):
            continue
        if affected:
            _, default_rows = plugin_frames(ts, pcap)
            changed = any(n not in default_rows or plugin_view(r[0][n]) != plugin_view(default_rows[n])
                          for n in r[2])
            check(changed, f"-o {shown}: changes the verdicts on {os.path.basename(pcap)}, as {' '.join(opts)} "
                  "changes the CLI's")
        else:
            print(f"note -o {shown}: no capture is affected by {' '.join(opts)}; checked it is accepted only")


# ---- what the GUI shows, read through tshark ----------------------------------

def colour_rules(src_dir):
    """[(rule name, anomaly id)] of plugin/tcpphase.colorfilters, in its order."""
    rules = []
    for line in open(os.path.join(src_dir, "plugin", "tcpphase.colorfilters")):
        m = re.match(r'@([^@]+)@tcpphase\.anomaly == "(\w+)"@', line)
        if m:
            rules.append((m.group(1), m.group(2)))
    return rules


def colour_profile(ts, src_dir):
    """A profile whose colorfilters are the shipped rules above Wireshark's
    own, as after View > Coloring Rules > Import: its folder."""
    glob_dir = next((l.split("\t")[-1].strip() for l in ts.run(["-G", "folders"]).stdout.splitlines()
                     if l.startswith("Global configuration:")), "/usr/share/wireshark")
    cfg = tempfile.mkdtemp(prefix="tp-colours-")
    with open(os.path.join(cfg, "colorfilters"), "w") as out:
        out.write(open(os.path.join(src_dir, "plugin", "tcpphase.colorfilters")).read())
        default = os.path.join(glob_dir, "colorfilters")
        if os.path.exists(default):
            out.writelines(l for l in open(default) if not l.startswith("#"))
    os.chmod(cfg, 0o755)
    os.chmod(os.path.join(cfg, "colorfilters"), 0o644)
    return cfg


def colour_checks(ts, results, src_dir):
    rules = colour_rules(src_dir)
    want_ids = ["syn_flood", "half_open", "handshake_bad_ack", "lost_handshake_ack", "lost_final_ack", "refused",
                "reset_no_connection", "reset_abort"]
    check(sorted(a for _, a in rules) == sorted(want_ids),
          f"plugin/tcpphase.colorfilters has a rule for each of {want_ids}: {rules}")
    cfg = colour_profile(ts, src_dir)
    seen = collections.Counter()
    for pcap, (rows, segs, plug) in sorted(results.items()):
        flagged = [n for n, sg in segs.items() if n in plug and set(sg["anomalies"]) & set(want_ids)]
        if not flagged and os.path.basename(pcap) != "lost-final-ack.pcap":
            continue
        p = ts.run(["-2", "-r", pcap, "--color", "-T", "fields", "-e", "frame.number",
                    "-e", "frame.coloring_rule.name"] + TCP_PREFS, config_dir=cfg)
        got = dict(l.split("\t", 1) for l in p.stdout.splitlines() if "\t" in l)
        bad = []
        for n in sorted(plug):
            an = set(segs[n]["anomalies"]) if n in segs else set()
            want = next((name for name, a in rules if a in an), None)
            name = got.get(str(n), "")
            if want is not None:
                seen[want] += 1
            if (want is None and name.startswith("TCP Phase:")) or (want is not None and name != want):
                bad.append(f"frame {n} {sorted(an)}: {name!r}, want {want!r}")
        check(p.returncode == 0 and not bad, f"{os.path.basename(pcap)}: frame.coloring_rule.name is the rule of "
              f"the frame's anomaly, with the shipped rules loaded" + ("" if not bad else ": " + "; ".join(bad[:8])))
    check(seen["TCP Phase: lost final ACK"] >= 2, "the lost-final-ACK frames get 'TCP Phase: lost final ACK' "
          f"({seen['TCP Phase: lost final ACK']} frame(s)); rules seen: {dict(seen)}")
    shutil.rmtree(cfg, ignore_errors=True)


def readme_columns(src_dir):
    """The gui.column.format line README.md documents, as a -o value."""
    m = re.search(r"-o '(gui\.column\.format:[^']*)'", open(os.path.join(src_dir, "README.md")).read())
    return m.group(1) if m else None


def column_checks(ts, results, src_dir):
    columns = readme_columns(src_dir)
    if not check(columns is not None, "README.md documents a gui.column.format line"):
        return
    titles = re.findall(r'"([^"]*)"', columns.split(":", 1)[1])[0::2]
    want_titles = ["Step", "Orig state", "Resp state"]
    if not check(all(t in titles for t in want_titles), f"its columns include {want_titles}: {titles}"):
        return
    idx = [titles.index(t) for t in ["No."] + want_titles]
    pcap = next(p for p in results if os.path.basename(p) == "lost-final-ack.pcap")
    rows, segs, plug = results[pcap]
    p = ts.run(["-2", "-r", pcap, "-T", "tabs", "-o", columns] + TCP_PREFS)
    got = {}
    for line in p.stdout.splitlines():
        # -T tabs puts an arrow between Source and Destination
        f = [x.strip() for x in line.split("\t") if x.strip() != "\u2192"]
        if len(f) == len(titles) and f[idx[0]].isdigit():
            got[int(f[idx[0]])] = tuple(f[i] for i in idx[1:])
    want = {n: (sg["step"], sg["orig_state"], sg["resp_state"]) for n, sg in segs.items()}
    check(p.returncode == 0 and got == want, f"lost-final-ack.pcap: README's column line shows the CLI's step and "
          f"states in the Step, Orig state and Resp state columns ({len(want)} frames)"
          + ("" if got == want else f": {sorted(set(got.items()) ^ set(want.items()))[:6]} {p.stderr[:200]}"))


FLAG_NAMES = [("S", "SYN"), ("F", "FIN"), ("R", "RST"), ("P", "PSH"), ("U", "URG"), ("E", "ECE"), ("W", "CWR"),
              ("N", "NS"), (".", "ACK")]


def flow_label(sg):
    """The Flow Graph label of a CLI segment record: its step, else flags and length."""
    if sg["step"]:
        return sg["step"] + (" rtx" if sg["rtx"] else "")
    fl = "-".join(name for letter, name in FLAG_NAMES if letter in sg["flags"]) or "no flags"
    return f"{fl} len={sg['len']}" if sg["len"] else fl


def parse_flow(text):
    """`-z flow,...` ASCII diagram -> [(label, comment)], one per arrow, in order."""
    items, lines = [], text.splitlines()
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        parts = line.split("|")  # [conversation (several only)] | time | label ... | comment
        if len(parts) > 3 and re.match(r"\d+\.\d+$", parts[1].strip()) and ("-->" in nxt or "<--" in nxt):
            items.append((" ".join(x.strip() for x in parts[2:-1] if x.strip()), parts[-1].strip()))
    return items


def flow_checks(ts, results):
    compared = []
    for pcap, (rows, segs, plug) in sorted(results.items()):
        if set(plug) != set(segs) or not segs or len(set(sg["uid"] for sg in segs.values())) > 3:
            continue  # decoding differences, or a crowd of connections: a diagram too wide to read
        p = ts.run(["-2", "-q", "-r", pcap, "-z", "flow,tcpphase,network"] + TCP_PREFS)
        got = parse_flow(p.stdout)
        want = []
        for n in sorted(segs):
            sg = segs[n]
            comment = f"orig {sg['orig_state']}, resp {sg['resp_state']}"
            if sg["anomalies"]:
                comment += "; " + ", ".join(sg["anomalies"])
            want.append((flow_label(sg), comment))
        diff = [f"#{i + 1}: {g} vs CLI {w}" for i, (g, w) in enumerate(zip(got, want)) if g != w]
        check(p.returncode == 0 and len(got) == len(want) and not diff,
              f"{os.path.basename(pcap)}: -z flow,tcpphase,network draws {len(got)} arrow(s), labelled with the "
              f"CLI's steps and commented with its states and anomalies ({len(want)} segments)"
              + ("" if not diff else ": " + "; ".join(diff[:5])))
        compared.append(os.path.basename(pcap))
    check(len(compared) >= 5 and "lost-final-ack.pcap" in compared,
          f"the Flow Graph was compared on {len(compared)} capture(s): {compared}")


def ack_checks(ts, results):
    """tcpphase.expected_ack and seen_ack are numbered as tcp.ack beside them
    (relative by default, absolute with relative numbers off); the _raw
    fields hold the CLI's absolute numbers."""
    fields = ["frame.number", "tcp.ack", "tcpphase.seen_ack", "tcpphase.expected_ack",
              "tcpphase.seen_ack_raw", "tcpphase.expected_ack_raw"]
    compared = 0
    for pcap, (rows, segs, plug) in sorted(results.items()):
        acked = {n: sg for n, sg in segs.items() if "seen_ack" in sg and n in plug}
        if not acked or os.path.dirname(os.path.relpath(pcap, os.path.dirname(os.path.dirname(pcap)))) == "zeek":
            continue
        for relative in ("TRUE", "FALSE"):
            args = ["-2", "-r", pcap, "-Y", "tcpphase.seen_ack", "-T", "fields", "-E", "occurrence=a",
                    "-E", "aggregator=|"] + TCP_PREFS + ["-o", f"tcp.relative_sequence_numbers:{relative}"]
            for f in fields:
                args += ["-e", f]
            p = ts.run(args)
            bad = []
            for line in p.stdout.splitlines():
                v = dict(zip(fields, line.split("\t")))
                n = int(v["frame.number"])
                if n not in acked or "|" in v["tcp.ack"]:
                    continue
                sg = acked[n]
                seen, exp, tcp_ack = int(v["tcpphase.seen_ack"]), int(v["tcpphase.expected_ack"]), int(v["tcp.ack"])
                ok = (seen == tcp_ack and int(v["tcpphase.seen_ack_raw"]) == sg["seen_ack"]
                      and int(v["tcpphase.expected_ack_raw"]) == sg["expected_ack"]
                      and (exp - seen) % 2**32 == (sg["expected_ack"] - sg["seen_ack"]) % 2**32)
                if not ok:
                    bad.append(f"frame {n}: {v} vs CLI expected {sg['expected_ack']} seen {sg['seen_ack']}")
                compared += 1
            check(p.returncode == 0 and not bad, f"{os.path.basename(pcap)} (tcp.relative_sequence_numbers:"
                  f"{relative}): expected and seen acks numbered as tcp.ack, absolute in the _raw fields"
                  + ("" if not bad else ": " + "; ".join(bad[:4])))
    check(compared > 20, f"acknowledgement numbers compared on {compared} frame(s)")


def parse_conns(text):
    """`-z tcpphase,conns` -> ([column names], [row dicts])."""
    lines = text.splitlines()
    head = next((i for i, l in enumerate(lines) if l.startswith("uid |")), None)
    if head is None:
        return [], []
    cols = [c.strip() for c in lines[head].split(" |")[:-1]]
    rows = []
    for l in lines[head + 2:]:
        if l.startswith("====="):
            break
        vals = [v.strip() for v in l.split(" |")[:-1]]
        if len(vals) == len(cols):
            rows.append(dict(zip(cols, vals)))
    return cols, rows


def endpoint(h, p):
    return f"[{h}]:{p}" if ":" in h else f"{h}:{p}"


def conns_checks(ts, binary, results):
    compared, total = [], 0
    for pcap, (rows, segs, plug) in sorted(results.items()):
        if set(plug) != set(segs) or not segs:
            continue  # a connection only one side decodes renumbers the uids
        p = ts.run(["-2", "-q", "-r", pcap, "-z", "tcpphase,conns"] + TCP_PREFS)
        cols, got = parse_conns(p.stdout)
        cli = subprocess.run([binary, "-r", pcap, "-F", "json", "--no-summary"] + CLI_RULES,
                             capture_output=True, text=True).stdout
        recs = [json.loads(l) for l in cli.splitlines() if l.strip()]
        want = {r["uid"]: {"uid": r["uid"], "originator": endpoint(r["id.orig_h"], r["id.orig_p"]),
                           "responder": endpoint(r["id.resp_h"], r["id.resp_p"]),
                           "handshake": r["handshake"], "teardown": r["teardown"],
                           "orig_state": r["orig_state"], "resp_state": r["resp_state"],
                           "conn_state": r["conn_state"], "history": r["history"] or "-",
                           "anomalies": ",".join(r["anomalies"]) or "-"}
                for r in recs if r.get("type") == "conn"}
        mine = {r["uid"]: r for r in got}
        diff = [f"{u}: {mine.get(u)} vs CLI {want.get(u)}" for u in sorted(set(mine) | set(want))
                if mine.get(u) != want.get(u)]
        check(p.returncode == 0 and len(got) == len(mine) and not diff,
              f"{os.path.basename(pcap)}: -z tcpphase,conns lists the CLI's {len(want)} connection record(s), "
              "field for field" + ("" if not diff else ": " + "; ".join(diff[:3])))
        compared.append(os.path.basename(pcap))
        total += len(want)
    check(len(compared) >= 10, f"the connection table was compared on {len(compared)} capture(s), "
          f"{total} connections")
    # Single pass: rows for connections whose record is not written yet say so.
    pcap = next(p for p in results if os.path.basename(p) == "lost-final-ack.pcap")
    p = ts.run(["-q", "-r", pcap, "-z", "tcpphase,conns"] + TCP_PREFS)
    _, got = parse_conns(p.stdout)
    check(len(got) == 1 and "use -2" in got[0]["handshake"],
          f"single pass: the open connection's row says its outcome is not known yet: {got}")


# Each preference with the CLI option it stands for; values chosen to make
# a difference on some capture.
PREF_PAIRS = [
    (["tcpphase.half_open_timeout:0.2"], ["--half-open-timeout", "0.2"]),
    (["tcpphase.syn_timeout:0.2"], ["--syn-timeout", "0.2"]),
    (["tcpphase.half_closed_timeout:0.5"], ["--half-closed-timeout", "0.5"]),
    (["tcpphase.idle_timeout:1"], ["--idle-timeout", "1"]),
    (["tcpphase.max_conns:2"], ["--max-conns", "2"]),
    (["tcpphase.max_embryonic:3"], ["--max-embryonic", "3"]),
    (["tcpphase.flood_window:2", "tcpphase.flood_min_half_open:2", "tcpphase.flood_min_rate:2",
      "tcpphase.flood_min_spread:0"],
     ["--flood-window", "2", "--flood-min-half-open", "2", "--flood-min-rate", "2", "--flood-min-spread", "0"]),
    (["tcpphase.key_context:TRUE"], ["--key-context"]),
    (["tcpphase.zeek_bare:TRUE"], ["--zeek-bare"]),
    (["tcpphase.split:zeek"], ["--split", "zeek"]),
    (["tcpphase.checksum_verify:TRUE", "tcp.check_checksum:TRUE"], ["--checksums", "verify"]),
]


# ---- the conversation filter ---------------------------------------------------

# Conversation Filter > TCP Phase applies this to the selected frame's
# connection (packet-tcpphase.c, conv_filter_build); tshark cannot call the
# callback, so tests/check_gui_convfilter.sh checks that the GUI applies
# this very text. Here: the text selects the frames of the CLI's record of
# that connection and no other, also where one 4-tuple carries several
# connections (which TCP's own conversation filter would merge).
CONV_FILTER = 'tcpphase.uid == "{uid}"'
CONV_CAPTURES = ["port-reuse.pcap", "stale-reconnect.pcap", "demo.pcapng"]


def conv_filter_checks(ts, results):
    tried = 0
    for pcap, (rows, segs, plug) in sorted(results.items()):
        if os.path.basename(pcap) not in CONV_CAPTURES or set(plug) != set(segs):
            continue
        want = collections.defaultdict(list)
        for n, s in sorted(segs.items()):
            want[s["uid"]].append(n)
        for uid in sorted(want)[:8]:
            filt = CONV_FILTER.format(uid=uid)
            p = ts.run(["-2", "-r", pcap, "-Y", filt, "-T", "fields", "-e", "frame.number"] + TCP_PREFS)
            got = [int(x) for x in p.stdout.split()]
            check(p.returncode == 0 and got == want[uid],
                  f"{os.path.basename(pcap)}: -Y '{filt}' selects the CLI's {len(want[uid])} frame(s) of "
                  f"{uid}" + ("" if got == want[uid] else f": got {got[:20]}, want {want[uid][:20]} "
                              f"{p.stderr.strip()[:200]}"))
            tried += 1
    check(tried >= 5, f"the conversation filter's text was tried on {tried} connection(s)")


# ---- the plugin leaves Wireshark's own dissection alone ----------------------

# What Wireshark itself says of each frame, which the plugin's handle in the
# "ip.proto" table (it stands where TCP's stood and hands TCP every packet)
# must not change.
WS_FIELDS = ["frame.protocols", "tcp.stream", "tcp.completeness", "tcp.seq", "tcp.ack", "tcp.len",
             "tcp.analysis.flags", "icmp.type", "data.len"]


def wireshark_fields(ts, pcap, plugin_dir=None):
    args = ["-2", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"] + TCP_PREFS
    for f in WS_FIELDS:
        args += ["-e", f]
    return ts.run(args, plugin_dir=plugin_dir)


def dissection_checks(ts, pcaps):
    empty = tempfile.mkdtemp(prefix="tp-no-plugins-")
    os.chmod(empty, 0o755)
    same = []
    for pcap in pcaps:
        name = os.path.basename(pcap)
        without = wireshark_fields(ts, pcap, plugin_dir=empty)
        with_ = wireshark_fields(ts, pcap)
        if without.returncode == 0 and with_.returncode == 0 and without.stdout == with_.stdout:
            same.append(name)
        else:
            a, b = without.stdout.splitlines(), with_.stdout.splitlines()
            first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            check(False, f"{name}: Wireshark's own fields are the same with the plugin as without it; "
                         f"frame {first + 1}: {a[first:first + 1]} vs {b[first:first + 1]}")
    check(len(same) == len(pcaps), f"Wireshark's own dissection ({', '.join(WS_FIELDS)}) is unchanged by the "
                                   f"plugin on {len(same)} of {len(pcaps)} captures")
    shutil.rmtree(empty, ignore_errors=True)

    demo = next((p for p in pcaps if os.path.basename(p) == "demo.pcapng"), pcaps[0])
    args = ["-r", demo, "-T", "fields", "-e", "frame.protocols", "-e", "tcp.stream", "-e", "tcpphase.phase"]
    rows = lambda p: [line.split("\t") for line in p.stdout.splitlines() if line.strip()]
    # Disabling TCP Phase must not disable TCP.
    p = ts.run(args + ["--disable-protocol", "tcpphase"])
    r = rows(p)
    check(p.returncode == 0 and r and all("tcp" in x[0].split(":") and x[1] != "" and x[2] == "" for x in r),
          f"--disable-protocol tcpphase: every frame still TCP with a tcp.stream, no tcpphase field: {r[:2]}")
    # Disabling TCP must leave tcpphase nothing to analyse.
    p = ts.run(args + ["--disable-protocol", "tcp"])
    r = rows(p)
    check(p.returncode == 0 and r and all(x[0].endswith(":ip:data") and x[2] == "" for x in r),
          f"--disable-protocol tcp: frames are IP data, and tcpphase analyses none: {r[:2]}")
    # Decode As in front of our handle: TCP without us; say so.
    p = ts.run(args + ["-d", "ip.proto==6,tcp"])
    r = rows(p)
    check(p.returncode == 0 and r and all("tcp" in x[0].split(":") and x[2] == "" for x in r)
          and "not decoded through tcpphase" in p.stderr,
          f"-d ip.proto==6,tcp: TCP is dissected, tcpphase warns that it sees no segment: "
          f"{p.stderr.strip()[-160:]!r}")


def parse_stats_tree(text):
    """`-z tcpphase,tree` output -> {(node, child, ...): count}."""
    tree, path = {}, []
    body = text.split("-" * 40, 1)[-1]
    for line in body.splitlines():
        m = re.match(r"^( *)(\S.*?)\s{2,}(\d+)\s", line)
        if not m:
            continue
        depth = len(m.group(1))
        path = path[:depth] + [m.group(2)]
        tree[tuple(path)] = int(m.group(3))
    return tree


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, plugin_dir, caps = sys.argv[1:4]
    src_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not shutil.which("tshark"):
        print("FAIL tshark is not installed")
        sys.exit(1)
    so = glob.glob(os.path.join(plugin_dir, "*", "epan", "tcpphase.so"))
    check(bool(so), f"built plugin under {plugin_dir}: {so}")
    series = tshark_series()
    check(bool(so) and series == os.path.basename(os.path.dirname(os.path.dirname(so[0]))),
          f"the plugin was built for the installed tshark's series, {series}")
    CLI_RULES.extend(["--wireshark", series or "4.0"])
    if so:  # nm: binutils, which gcc needs
        nm = subprocess.run(["nm", "-D", "--defined-only", so[0]], capture_output=True, text=True)
        exported = sorted(line.split()[-1] for line in nm.stdout.splitlines() if line.strip())
        entry = ["plugin_register", "plugin_version", "plugin_want_major", "plugin_want_minor"]
        series = os.path.basename(os.path.dirname(os.path.dirname(so[0])))  # plugins/<major.minor>/epan
        if tuple(int(x) for x in series.split(".")) >= (4, 2):
            entry.append("plugin_describe")  # 4.2 added it: what the plugin provides
        check(nm.returncode == 0 and exported == sorted(entry),
              f"tcpphase.so for Wireshark {series} exports its {len(entry)} plugin entry points "
              f"and nothing else: {exported[:7]}")
    ts = Tshark(os.path.abspath(plugin_dir))
    if not check(ts.prefix is not None, "tshark -G plugins lists tcpphase.so (" + "; ".join(ts.tried) + ")"):
        print(f"{len(failures)} check(s) failed: the plugin did not load")
        sys.exit(1)

    pcaps = sorted(set(glob.glob(os.path.join(caps, "**", "*.pcap"), recursive=True)
                       + glob.glob(os.path.join(caps, "**", "*.pcapng"), recursive=True)))
    check(len(pcaps) > 0, f"{len(pcaps)} capture(s) under {caps}")
    results = {}
    for pcap in pcaps:
        name = os.path.relpath(pcap, caps)
        r = compare_capture(ts, binary, pcap, name)
        if r is None:
            continue
        rows, segs, plug = r
        results[pcap] = r
        check_completeness(name, rows, plug)

    if results:
        user_checks(ts, binary, caps, results, src_dir)
        colour_checks(ts, results, src_dir)
        column_checks(ts, results, src_dir)
        ack_checks(ts, results)
        flow_checks(ts, results)
        conns_checks(ts, binary, results)
        conv_filter_checks(ts, results)
    if pcaps:
        dissection_checks(ts, pcaps)

    shutil.rmtree(ts.home, ignore_errors=True)
    if known:
        print(f"\nknown decoding differences ({len(known)}):")
        for cap, what, why in known:
            print(f"  {cap}: {what}: {why}")
    finish("\nall plugin checks passed")


if __name__ == "__main__":
    main()
