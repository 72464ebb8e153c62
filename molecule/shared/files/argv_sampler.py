"""Watch every process's command line for secrets, many times a second, until stopped (SIGTERM).

The secrets come from a root-only JSON file {name: value}, read again whenever it changes, so that a secret made
during the converge (an onboarded endpoint's password) is watched from then on. The report (JSON) names which secret
appeared in which program's command line, never the value: {"samples": N, "seconds": S, "hits": {name: [program, ...]}}.
"""
import json
import os
import signal
import sys
import time

INTERVAL = 0.05  # 20 samples a second


def read_secrets(secrets_file):
    with open(secrets_file) as handle:
        return {name: value.encode() for name, value in json.load(handle).items() if value}


def main(secrets_file, report_file):
    read_at, needles = os.stat(secrets_file).st_mtime_ns, read_secrets(secrets_file)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    samples, hits, started = 0, {}, time.monotonic()
    while not stop:
        changed_at = os.stat(secrets_file).st_mtime_ns
        if changed_at != read_at:
            read_at, needles = changed_at, read_secrets(secrets_file)
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid == str(os.getpid()):
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    argv = handle.read()
            except OSError:
                continue
            for name, needle in needles.items():
                if needle in argv:
                    program = " ".join(a.decode(errors="replace") for a in argv.split(b"\0")[:2])
                    found = hits.setdefault(name, [])
                    if program.replace(needle.decode(), "***") not in found:
                        found.append(program.replace(needle.decode(), "***")[:120])
        samples += 1
        time.sleep(INTERVAL)
    with open(report_file, "w") as handle:
        json.dump({"samples": samples, "seconds": round(time.monotonic() - started, 1), "hits": hits}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:3])
