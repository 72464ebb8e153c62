"""Benchmark a scenario's converge (endpoint by default): from fresh containers, and the idempotent second run.

Runs molecule's own steps for the scenario (destroy, create, prepare, then converge and idempotence timed) and prints
the wall times; destroys the scenario afterwards. `make bench-endpoint-converge` and `make bench-network-converge`
run it. For the endpoint scenario, `--nodes bare,baked` measures both kinds of node in one run: bare lab containers
with a full converge, and the baked node image (scripts/lab-images.sh) with the install phases skipped.
"""
import argparse
import json
import os
import subprocess
import time

NODES = {
    "bare": {"ENDPOINT_NODE_IMAGE": "localhost/pulsar-network-lab:trixie", "ENDPOINT_SKIP_TAGS": ""},
    "baked": {},  # the scenario's default: the node image, install phases skipped
}


def step(name, scenario, env):
    start = time.monotonic()
    subprocess.run(["molecule", name, "-s", scenario], check=True, stdout=subprocess.DEVNULL, env=env)
    return round(time.monotonic() - start, 1)


def measure(scenario, env):
    figures = {}
    try:
        for name in ("destroy", "create", "prepare", "converge", "idempotence"):
            figures[f"{name}_s"] = step(name, scenario, env)
    finally:
        subprocess.run(["molecule", "destroy", "-s", scenario], check=False, stdout=subprocess.DEVNULL, env=env)
    figures["rerun_ratio"] = round(figures["idempotence_s"] / figures["converge_s"], 2)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="endpoint")
    parser.add_argument("--nodes", default="", help="endpoint only: comma-separated kinds of node, bare and/or baked")
    args = parser.parse_args()
    kinds = [kind for kind in args.nodes.split(",") if kind]
    report = {"scenario": args.scenario}
    if not kinds:
        report |= measure(args.scenario, dict(os.environ))
    for kind in kinds:
        report[kind] = measure(args.scenario, dict(os.environ) | NODES[kind])
    if {"bare", "baked"} <= set(kinds):
        report["baked_to_bare_converge"] = round(report["baked"]["converge_s"] / report["bare"]["converge_s"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
