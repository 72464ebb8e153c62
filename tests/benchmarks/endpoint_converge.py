"""Benchmark a scenario's converge (endpoint by default): from bare containers, and the idempotent second run.

Runs molecule's own steps for the scenario (destroy, create, prepare, then converge and idempotence timed) and prints
the wall times; destroys the scenario afterwards. `make bench-endpoint-converge` and `make bench-network-converge`
run it.
"""
import argparse
import json
import subprocess
import time


def step(name, scenario):
    start = time.monotonic()
    subprocess.run(["molecule", name, "-s", scenario], check=True, stdout=subprocess.DEVNULL)
    return round(time.monotonic() - start, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="endpoint")
    scenario = parser.parse_args().scenario
    figures = {"scenario": scenario}
    try:
        for name in ("destroy", "create", "prepare", "converge", "idempotence"):
            figures[f"{name}_s"] = step(name, scenario)
    finally:
        subprocess.run(["molecule", "destroy", "-s", scenario], check=False, stdout=subprocess.DEVNULL)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
