"""TES on the tes scenario's network: an echo task through TES against the same job through pulsar_job, and 200 tasks
submitted at once. Prints figures; asserts nothing about time.

    make bench-tes-network      (converges the tes scenario, then runs this)

Echo: N tasks one after the other, each from POST /tasks to COMPLETE as a client sees it (polling every 0.2 s), and
N runs of playbooks/endpoint_check.yml on tes-ep-a, each timed by the pulsar_job module from sending to the final
status message. Both go through the same broker, Pulsar and HTCondor pool. Burst: 200 echo tasks posted at once from
16 threads, then every task polled to its end; tasks per minute from the first POST to the last final state, and the
tasks that did not end COMPLETE (lost).
"""

from __future__ import annotations

import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from urllib3.util import connection

TOKEN = "alice-lab-token-0123456789"
IMAGE = "tes-broker:5000/lab/busybox:1"
ECHO = {"executors": [{"image": IMAGE, "command": ["echo", "hello"]}]}
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BURST = int(os.environ.get("BENCH_BURST", "200"))
FINAL = {"COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED"}


def scenario_dir() -> str:
    """The converged tes scenario's ephemeral directory: the one whose lab CA the running tes-broker's certificate
    chains to (another checkout's runs leave directories of their own)."""
    ip = address("tes-broker")
    for candidate in sorted(glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.tes")), key=os.path.getmtime,
                            reverse=True):
        ca = os.path.join(candidate, "ca", "ca.crt")
        if os.path.exists(ca) and subprocess.run(
                ["openssl", "s_client", "-connect", f"{ip}:443", "-servername", "tes-broker", "-CAfile", ca,
                 "-verify_return_error", "-brief"], input="", capture_output=True, text=True, check=False).returncode == 0:
            return candidate
    sys.exit("the tes scenario is not converged (molecule converge -s tes)")


def address(host: str) -> str:
    return subprocess.run(["podman", "inspect", "-f", '{{(index .NetworkSettings.Networks "lab-tes").IPAddress}}', host],
                          capture_output=True, text=True, check=True).stdout.strip()


class Client:
    def __init__(self, ephemeral: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"
        self.session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides verify
        self.session.verify = os.path.join(ephemeral, "ca", "ca.crt")
        # The service's certificate names tes-broker; reach it at its lab address under that name.
        self.base = "https://tes-broker/ga4gh/tes/v1"
        ip = address("tes-broker")
        original = connection.create_connection
        connection.create_connection = lambda addr, *a, **k: original((ip if addr[0] == "tes-broker" else addr[0],
                                                                       addr[1]), *a, **k)

    def submit(self, body: dict) -> str:
        answer = self.session.post(f"{self.base}/tasks", json=body, timeout=60)
        answer.raise_for_status()
        return answer.json()["id"]

    def state(self, task_id: str) -> str:
        return self.session.get(f"{self.base}/tasks/{task_id}", timeout=60).json()["state"]

    def until_final(self, task_id: str, interval: float = 0.2, timeout: float = 900) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(task_id)
            if state in FINAL:
                return state
            time.sleep(interval)
        return "TIMEOUT"


def echo_through_tes(client: Client) -> list[float]:
    times = []
    for _run in range(RUNS):
        started = time.monotonic()
        task_id = client.submit({**ECHO, "name": "bench-echo"})
        state = client.until_final(task_id)
        times.append(time.monotonic() - started)
        if state != "COMPLETE":
            sys.exit(f"echo task {task_id} ended {state}")
    return times


def echo_through_pulsar_job(ephemeral: str) -> list[float]:
    inventory = os.path.join(ephemeral, "inventory")
    times = []
    for _run in range(RUNS):
        run = subprocess.run(["ansible-playbook", "-i", inventory, "esg.pulsar_network.endpoint_check", "--limit",
                              "tes-ep-a,localhost"], capture_output=True, text=True, check=False)
        found = re.search(r"tes: job \S+ .*?, ([0-9.]+) s\s+from sending", run.stdout.replace("\n", " "))
        if not found:
            sys.exit(f"endpoint_check gave no timing (rc {run.returncode}):\n{run.stdout[-2000:]}")
        times.append(float(found.group(1)))
    return times


def burst(client: Client) -> dict:
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda i: client.submit({**ECHO, "name": f"bench-burst-{i}"}), range(BURST)))
        posted = time.monotonic() - started
        states = list(pool.map(lambda t: client.until_final(t, interval=1.0, timeout=1800), ids))
    elapsed = time.monotonic() - started
    return {"tasks": BURST, "posted_s": round(posted, 1), "all_final_s": round(elapsed, 1),
            "tasks_per_minute": round(BURST / elapsed * 60, 1), "complete": states.count("COMPLETE"),
            "not_complete": {s: states.count(s) for s in set(states) if s != "COMPLETE"}}


def main() -> None:
    ephemeral = scenario_dir()
    client = Client(ephemeral)
    client.until_final(client.submit({**ECHO, "name": "bench-warm-up"}))  # the image is pulled once per node
    tes_times = echo_through_tes(client)
    job_times = echo_through_pulsar_job(ephemeral)
    tes_median, job_median = statistics.median(tes_times), statistics.median(job_times)
    print(json.dumps({
        "echo_through_tes_s": [round(t, 2) for t in tes_times],
        "echo_through_pulsar_job_s": job_times,
        "median_tes_s": round(tes_median, 2),
        "median_pulsar_job_s": round(job_median, 2),
        "ratio_tes_to_pulsar_job": round(tes_median / job_median, 2),
    }, indent=2))
    print(json.dumps({"burst": burst(client)}, indent=2))


if __name__ == "__main__":
    main()
