"""What the check_*.py scripts share: one line per check, JSON lines, the verdict."""
import json
import sys

failures = []


def check(cond, what):
    """Print the check as ok or FAIL, remember a failure, return cond."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
    return cond


def jsonl(out):
    """tcpphase -F json output -> a list of records."""
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def finish(passed):
    """Exit 1 if any check failed, else print passed."""
    if failures:
        print(f"\n{len(failures)} check(s) failed")
        sys.exit(1)
    print(passed)


def tshark_series():
    """The installed tshark's major.minor ("4.0", "4.4", "4.6"), or None.

    It names the rules the CLI follows to agree with that tshark
    (tcpphase --wireshark SERIES)."""
    import re
    import subprocess
    try:
        out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    m = re.search(r"\b(\d+\.\d+)\.\d+", out)
    return m.group(1) if m else None
