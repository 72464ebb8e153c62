"""Benchmark the endpoint scenario's converge: from bare containers, and the idempotent second run.

Runs molecule's own steps for the endpoint scenario (destroy, create, prepare, then converge and idempotence timed)
and prints the wall times; destroys the scenario afterwards. `make bench-endpoint-converge` runs it.
"""
import json
import subprocess
import time


def step(name):
    start = time.monotonic()
    subprocess.run(["molecule", name, "-s", "endpoint"], check=True, stdout=subprocess.DEVNULL)
    return round(time.monotonic() - start, 1)


def main():
    figures = {}
    try:
        for name in ("destroy", "create", "prepare", "converge", "idempotence"):
            figures[f"{name}_s"] = step(name)
    finally:
        subprocess.run(["molecule", "destroy", "-s", "endpoint"], check=False, stdout=subprocess.DEVNULL)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
