#!/usr/bin/env python3
"""Every tcpphase and tshark command the README shows runs as shown.

Takes each line of the README's ```sh blocks that starts with `tcpphase`
or `tshark` (a `for ... do CMD & done` loop is run once, with its variable
set to 0), runs it from the repository's root with the build's tcpphase
first on PATH and tshark loading the build's plugin, and checks that it
exits 0 and prints something, or writes the file it names with -o/-w. A
placeholder capture (x.pcap, big.pcap) stands for test-captures/demo.pcapng;
files a command writes go to a scratch folder, except the README's own
pictures in docs/, which must come out byte for byte as committed (the
README shows them). The example outputs themselves are compared by
check_cli.py.

usage: check_readme.py TCPPHASE_BINARY PLUGIN_DIR SOURCE_DIR
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from tputil import check, finish

PLACEHOLDERS = {"x.pcap": "test-captures/demo.pcapng", "big.pcap": "test-captures/demo.pcapng"}


def commands(readme):
    for block in re.findall(r"```sh\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            line = line.strip()
            loop = re.match(r"for (\w+) in (\S+).*?; do (.*?) & done", line)
            if loop:
                line = loop.group(3).replace("$" + loop.group(1), loop.group(2))
            if re.match(r"(tcpphase|tshark) ", line):
                yield line


def main():
    binary, plugin_dir, src = (os.path.abspath(a) for a in sys.argv[1:4])
    readme = open(os.path.join(src, "README.md")).read()
    tmp = tempfile.mkdtemp(prefix="tp-readme-")
    os.chmod(tmp, 0o755)
    try:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        os.symlink(binary, os.path.join(bindir, "tcpphase"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"], WIRESHARK_PLUGIN_DIR=plugin_dir,
                   HOME=tmp, LC_ALL="C")
        n = 0
        for line in commands(readme):
            n += 1
            argv = shlex.split(line, comments=True)
            argv = [PLACEHOLDERS.get(a, a) for a in argv]
            written = None
            for opt in (("-o", "-w") if argv[0] == "tcpphase" else ("-w",)):  # tshark's -o is a preference
                if opt in argv:
                    i = argv.index(opt) + 1
                    written = (argv[i], os.path.join(tmp, os.path.basename(argv[i])))
                    argv[i] = written[1]
            prefix = ["sh", os.path.join(src, "tests", "unpriv.sh")] if argv[0] == "tshark" else []
            p = subprocess.run(prefix + argv, capture_output=True, text=True, cwd=src, env=env)
            if written:
                out = open(written[1], "rb").read() if os.path.exists(written[1]) else b""
                ok = p.returncode == 0 and len(out) > 0
                if ok and written[0].startswith("docs/"):
                    ok = out == open(os.path.join(src, written[0]), "rb").read()
                    what = f"writes {written[0]} exactly as committed"
                else:
                    what = f"writes {os.path.basename(written[0])} ({len(out)} bytes)"
            else:
                ok = p.returncode == 0 and p.stdout.strip() != ""
                what = f"prints {len(p.stdout.splitlines())} lines"
            check(ok, f"README: `{line[:110]}` exits {p.returncode} and {what}"
                  + ("" if ok else f": {p.stderr.strip()[:300]}"))
        check(n >= 6, f"{n} tcpphase/tshark commands found in the README's sh blocks")
    finally:
        shutil.rmtree(tmp)
    finish("every README command runs")


if __name__ == "__main__":
    main()
