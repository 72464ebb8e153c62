"""Benchmark routing that follows endpoint health, on the network scenario's two endpoints, in one run.

`make bench-network-routing` converges the network scenario, runs this, and destroys the scenario. Through Galaxy's
API with bioblend (tests/lab/galaxy_job.py), with pn_tac, which routing may send to either endpoint:

1. a burst of N jobs with both endpoints healthy: wall time, jobs per minute, where they ran;
2. failover: lab_site's Pulsar is stopped; the seconds until Galaxy's routing leaves it out (its health document), and
   then one job, which must run on lab_endpoint;
3. the same burst of N jobs on lab_endpoint alone, and the two-endpoint to one-endpoint wall-time ratio.
Prints JSON. Both endpoints share this machine's cores: the ratio says what routing gains on a latency-bound load here,
not what two real sites would.
"""
import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.lab import galaxy_job  # noqa: E402  (the network scenario's own client)

GALAXY, SITE = "net-galaxy", "net-site"
HEALTH = "/srv/galaxy/network_health.json"


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout.strip()


def health() -> dict:
    return json.loads(podman("exec", GALAXY, "cat", HEALTH))["endpoints"]


def wait_for(what: str, test, timeout: float = 180.0) -> float:
    start = time.monotonic()
    while not test():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)
    return round(time.monotonic() - start, 1)


def burst(gi, count: int) -> dict:
    result = galaxy_job.burst(gi, "pn_tac", count)
    states = [job["output_state"] for job in result["jobs"]]
    return {"jobs": count, "ok": states.count("ok"), "wall_s": result["wall_s"],
            "jobs_per_min": round(count / result["wall_s"] * 60, 1), "runners": result["runners"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    ephemeral = glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.network"))[0]
    address = podman("inspect", GALAXY, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
    os.environ["GALAXY_API_KEY"] = podman("exec", GALAXY, "cat", "/etc/galaxy/admin_api_key")
    gi = galaxy_job.galaxy(f"https://{address}", f"{ephemeral}/ca/ca.crt")

    report = {}
    wait_for("both endpoints healthy", lambda: {e["verdict"] for e in health().values()} == {"healthy"})
    report["two_endpoints"] = burst(gi, args.jobs)

    podman("exec", SITE, "systemctl", "stop", "pulsar@lab_galaxy")
    try:
        left_out = wait_for("routing to leave lab_site out", lambda: health()["lab_site"]["verdict"] != "healthy")
        probe = galaxy_job.wait(gi, galaxy_job.submit(gi, "pn_tac"), fetch=False)
        report["failover"] = {"stop_to_left_out_s": left_out, "verdict": health()["lab_site"]["verdict"],
                              "next_job_runner": probe["runner"], "next_job_state": probe["output_state"]}
        report["one_endpoint"] = burst(gi, args.jobs)
    finally:
        podman("exec", SITE, "systemctl", "start", "pulsar@lab_galaxy")
    report["two_to_one_wall_ratio"] = round(report["two_endpoints"]["wall_s"] / report["one_endpoint"]["wall_s"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
