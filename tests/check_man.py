#!/usr/bin/env python3
"""Keep the man page honest: it must document what the CLI really has.

- every option `tcpphase --help` prints (and the options of every subcommand
  the help names, if `tcpphase SUB --help` answers) is the tag of an entry in
  OPTIONS or SUBCOMMANDS;
- ANOMALIES has exactly one entry `id (severity)` per row of
  `tcpphase --list-anomalies`, and no other;
- every JSON key the CLI writes on test-captures/demo.pcapng (segments and
  connections) and test-captures/syn-flood.pcap (a flood alert) is
  documented: a record's own keys as entry tags of that record's subsection
  of OUTPUT, nested keys and the values seen for phase, step, handshake, ...
  in the subsection's text;
- the version in .TH is the CLI's;
- groff renders it without a warning (-ww) at the default width and at 60
  columns; so does mandoc -Tlint, when mandoc happens to be installed.

usage: check_man.py TCPPHASE_BINARY MAN_PAGE TEST_CAPTURES_DIR
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from tputil import check, finish

BIN, PAGE, CAPS = sys.argv[1], sys.argv[2], sys.argv[3]


def run(args):
    return subprocess.run([BIN] + args, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


# ---- the page, as structured text -------------------------------------------

ESCAPES = [
    (re.compile(r"\\f(\[[^]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\\((aq)"), "'"),
    (re.compile(r"\\\((lq|rq)"), '"'),
    (re.compile(r"\\\(->"), "->"),
    (re.compile(r"\\\(em"), "--"),
    (re.compile(r"\\[-]"), "-"),
    (re.compile(r"\\~"), " "),
    (re.compile(r"\\[%&:|^]"), ""),
    (re.compile(r"\\e"), "\\"),
]
ALTERNATING = {"BR", "RB", "BI", "IB", "RI", "IR"}
ONE_FONT = {"B", "I", "R", "SM", "SB", "SH", "SS"}


def deroff(text):
    for rx, sub in ESCAPES:
        text = rx.sub(lambda _m, s=sub: s, text)
    return text


def parse_page(src):
    """-> th (the .TH arguments) and entries: (section, subsection, tag, text)
    with tag the term of a .TP entry ("" for plain paragraphs)."""
    th, entries = [], []
    sec = sub = ""
    tag_next = False
    cur = None  # [sec, sub, tag, [lines]]
    for raw in src.splitlines():
        if raw.startswith('.\\"') or raw.startswith("'\\\""):
            continue
        if raw.startswith("."):
            parts = raw[1:].split(None, 1)
            if not parts:
                continue
            macro, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            try:
                args = shlex.split(rest.replace("\\", "\\\\"), posix=True)
            except ValueError:
                args = rest.split()
            if macro in ALTERNATING:
                line = "".join(args)
            elif macro in ONE_FONT:
                line = " ".join(args)
            else:
                line = None
            if macro == "TH":
                th = [deroff(a) for a in args]
                continue
            if macro in ("SH", "SS"):
                name = deroff(" ".join(args))
                if macro == "SH":
                    sec, sub = name, ""
                else:
                    sub = name
                cur = [sec, sub, "", []]
                entries.append(cur)
                continue
            if macro == "TP":
                tag_next = True
                continue
            if macro in ("PP", "P", "LP"):
                cur = [sec, sub, "", []]
                entries.append(cur)
                continue
            if line is None:
                continue
        else:
            line = raw
        line = deroff(line)
        if tag_next:
            cur = [sec, sub, line, []]
            entries.append(cur)
            tag_next = False
            continue
        if cur is None:
            cur = [sec, sub, "", []]
            entries.append(cur)
        cur[3].append(line)
    return th, [(s, ss, t, " ".join(ls)) for s, ss, t, ls in entries]


def has_token(text, tok):
    return re.search(r"(?<![\w-])" + re.escape(tok) + r"(?![\w-])", text) is not None


with open(PAGE, encoding="utf-8") as f:
    TH, ENTRIES = parse_page(f.read())
SECTIONS = {s for s, _, _, _ in ENTRIES}
for want in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS", "OUTPUT", "ANOMALIES",
             "EXIT STATUS", "EXAMPLES", "THE WIRESHARK PLUGIN", "SEE ALSO"):
    check(want in SECTIONS, f"section {want}")


def tags(*sections):
    return [t for s, _, t, _ in ENTRIES if s in sections and t]


def text_of(section, subsection_prefix=None):
    return " ".join(t + " " + b for s, ss, t, b in ENTRIES
                    if s == section and (subsection_prefix is None or ss.startswith(subsection_prefix)))


# ---- version ----------------------------------------------------------------

r = run(["--version"])
m = re.match(r"tcpphase (\S+)", r.stdout)
check(r.returncode == 0 and m is not None, "tcpphase --version")
if m:
    check(len(TH) >= 4 and TH[3] == f"tcpphase {m.group(1)}",
          f".TH names version {m.group(1)} (page says {TH[3] if len(TH) >= 4 else TH!r})")

# ---- options ----------------------------------------------------------------

OPT = r"(?:--[a-z][a-z0-9-]*|-[A-Za-z])"
OPTION_LINE = re.compile(r"^\s+(" + OPT + r"(?:,\s*" + OPT + r")*)(?=\s|$)")
USAGE_LINE = re.compile(r"^\s*(?:usage:\s*)?tcpphase\b(.*)$")


def options_of(help_text):
    """Options a --help text offers: the option column, and the usage lines."""
    opts, subs = set(), set()
    for line in help_text.splitlines():
        um = USAGE_LINE.match(line)
        if um:
            words = um.group(1).split()
            # "tcpphase ladder -r FILE ...": a subcommand, then its arguments
            if words and re.fullmatch(r"[a-z][a-z-]*", words[0]) and (len(words) == 1 or words[1][0] in "-[<{"):
                subs.add(words[0])
            opts.update(w for w in re.findall(r"(?<![\w-])" + OPT + r"(?![\w-])", um.group(1)))
            continue
        om = OPTION_LINE.match(line)
        if om:
            opts.update(o.strip() for o in om.group(1).split(","))
    return opts, subs


r = run(["--help"])
check(r.returncode == 0 and "usage" in r.stdout, "tcpphase --help")
main_opts, subcommands = options_of(r.stdout)
check(len(main_opts) >= 30, f"--help lists {len(main_opts)} options (at least 30 expected: is the parser stale?)")
opt_tags = tags("OPTIONS", "SUBCOMMANDS")
missing = sorted(o for o in main_opts if not any(has_token(t, o) for t in opt_tags))
check(not missing, "every option of --help has an entry in OPTIONS or SUBCOMMANDS"
      + (f"; missing: {' '.join(missing)}" if missing else ""))

sub_tags = tags("SUBCOMMANDS")
for sub in sorted(subcommands):
    check(any(t.startswith(f"tcpphase {sub} ") or t == f"tcpphase {sub}" for t in sub_tags),
          f"subcommand '{sub}' (named by --help) has an entry in SUBCOMMANDS")
    rs = run([sub, "--help"])
    if rs.returncode != 0:
        print(f"note tcpphase {sub} --help exits {rs.returncode}: its options not checked")
        continue
    sub_opts, _ = options_of(rs.stdout + rs.stderr)
    sub_opts.discard("-h")
    sub_opts.discard("--help")
    entry = [t for t in sub_tags if t.startswith(f"tcpphase {sub}")]
    missing = sorted(o for o in sub_opts
                     if not any(has_token(t, o) for t in entry) and not any(has_token(t, o) for t in opt_tags))
    check(not missing, f"every option of 'tcpphase {sub} --help' is documented"
          + (f"; missing: {' '.join(missing)}" if missing else ""))

# ---- anomalies --------------------------------------------------------------

r = run(["--list-anomalies"])
table = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", r.stdout, re.M))
check(r.returncode == 0 and len(table) >= 20, f"--list-anomalies gives {len(table)} anomalies")
page_anoms = {}
for t in tags("ANOMALIES"):
    am = re.fullmatch(r"(\w+) \((\w+)\)", t.strip())
    if am:
        page_anoms[am.group(1)] = am.group(2)
    else:
        check(False, f"ANOMALIES entry '{t}' is not 'id (severity)'")
missing = sorted(a for a in table if a not in page_anoms)
extra = sorted(a for a in page_anoms if a not in table)
wrong = sorted(f"{a} ({page_anoms[a]}, CLI: {table[a]})" for a in table if a in page_anoms and page_anoms[a] != table[a])
check(not missing, "every anomaly of --list-anomalies has an entry in ANOMALIES"
      + (f"; missing: {' '.join(missing)}" if missing else ""))
check(not extra, "ANOMALIES has no anomaly the CLI does not know" + (f"; stale: {' '.join(extra)}" if extra else ""))
check(not wrong, "ANOMALIES gives each anomaly the CLI's severity" + (f"; differ: {', '.join(wrong)}" if wrong else ""))

# ---- JSON output ------------------------------------------------------------

records = []
for args in (["-r", os.path.join(CAPS, "demo.pcapng"), "-F", "json", "--segments", "--conns"],
             ["-r", os.path.join(CAPS, "syn-flood.pcap"), "-F", "json"]):
    r = run(args)
    check(r.returncode == 0, f"tcpphase {' '.join(args)}")
    records += [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

SUBSECTION = {"segment": "Per segment", "conn": "Per connection", "alert": "Alerts", "summary": "Summary"}
# string fields whose values are a fixed vocabulary the page must name
VOCABULARY = ("dir", "phase", "step", "handshake", "teardown", "end")
seen = {t: {} for t in SUBSECTION}  # type -> key -> set of example values
nested = {t: set() for t in SUBSECTION}  # type -> nested keys (path strings)
anomaly_keys = set()
states = set()
for rec in records:
    t = rec.get("type")
    if t not in SUBSECTION:
        check(False, f"record type '{t}' is one the page documents")
        continue
    for k, v in rec.items():
        seen[t].setdefault(k, set())
        if k in VOCABULARY and isinstance(v, str) and v:
            seen[t][k].add(v)
        if k in ("orig_state", "resp_state"):
            states.add(v)
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if t == "summary" and k == "anomalies":
                    anomaly_keys.add(k2)
                    nested[t].update(f"{k}.{k3}" for k3 in v2)
                else:
                    nested[t].add(f"{k}.{k2}")
for t in SUBSECTION:
    check(seen[t], f"the test captures give a '{t}' record")

for t, sub in SUBSECTION.items():
    sub_tags = [tg for s, ss, tg, _ in ENTRIES if s == "OUTPUT" and ss.startswith(sub) and tg]
    body = text_of("OUTPUT", sub)
    check(sub_tags, f"OUTPUT has a subsection '{sub}'")
    missing = sorted(k for k in seen[t] if not any(has_token(tg, k) for tg in sub_tags))
    check(not missing, f"every '{t}' key has an entry in OUTPUT / {sub} ({len(seen[t])} keys)"
          + (f"; missing: {' '.join(missing)}" if missing else ""))
    missing = sorted(p for p in nested[t] if not has_token(body, p.split(".")[-1]))
    if nested[t]:
        check(not missing, f"every nested '{t}' key is named in OUTPUT / {sub} ({len(nested[t])} keys)"
              + (f"; missing: {' '.join(missing)}" if missing else ""))
    missing = sorted(f"{k}={v}" for k in VOCABULARY for v in seen[t].get(k, ()) if not has_token(body, v))
    check(not missing, f"every value seen for {', '.join(k for k in VOCABULARY if seen[t].get(k)) or 'its fields'}"
          f" is named in OUTPUT / {sub}" + (f"; missing: {' '.join(missing)}" if missing else ""))
    check(has_token(body, t), f"OUTPUT / {sub} names the type '{t}'")

check(anomaly_keys <= set(table), "summary.anomalies is keyed by anomaly ids")
alert_kinds = {rec.get("alert") for rec in records if rec.get("type") == "alert"}
missing = sorted(a for a in alert_kinds if not has_token(text_of("OUTPUT", "Alerts"), a))
check(not missing, "every alert kind is named in OUTPUT / Alerts" + (f"; missing: {' '.join(missing)}" if missing else ""))
everything = " ".join(t + " " + b for _, _, t, b in ENTRIES)
missing = sorted(s for s in states if not has_token(everything, s))
check(not missing, "every endpoint state seen is named" + (f"; missing: {' '.join(missing)}" if missing else ""))

# ---- rendering --------------------------------------------------------------

groff = shutil.which("groff")
if not groff:
    check(False, "groff is installed (it is not: install the Debian package groff-base, "
          "as ./setup.sh --deps-only does; this test installs nothing)")
else:
    for extra_args, what in (([], "the default width"), (["-rLL=60n"], "60 columns")):
        r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z"] + extra_args + [PAGE],
                           capture_output=True, text=True)
        check(r.returncode == 0 and not r.stderr.strip(),
              f"groff -man -Tutf8 -ww renders it without a warning at {what}"
              + (f":\n{r.stderr.rstrip()}" if r.stderr.strip() else ""))
mandoc = shutil.which("mandoc")
if mandoc:
    r = subprocess.run([mandoc, "-Tlint", "-W", "warning", PAGE], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    check(not out, "mandoc -Tlint -W warning finds nothing" + (f":\n{out}" if out else ""))
else:
    print("note mandoc not installed: lint skipped (groff checks above still apply)")

finish("\nthe man page documents every option, anomaly and JSON key of the CLI")
