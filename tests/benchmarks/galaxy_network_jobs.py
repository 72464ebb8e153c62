"""Benchmark a Galaxy tool job through the Pulsar Network against the same tool on the same Galaxy's local runner.

Needs the lab from `make lab` (`make bench-galaxy-network` runs it first). Through Galaxy's API with bioblend, as a
user would: the lab admin's Concatenate jobs go to the Pulsar endpoint (TPV), those of a second user listed in
usegalaxy_replica_local_users run on Galaxy's local runner. For each, --repeat times: upload a small dataset, then
time Concatenate from the tool request to its output being 'ok'. Prints the medians and their ratio as JSON.
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import time

from bioblend.galaxy import GalaxyInstance

REPO = pathlib.Path(__file__).resolve().parents[2]
GALAXY = "pn-lab-galaxy"
LOCAL_USER = "bench-local@lab.pulsar-network.test"


def container_file(path):
    return subprocess.run(["podman", "exec", GALAXY, "cat", path], check=True, capture_output=True, text=True).stdout


def galaxy(key):
    address = subprocess.run(["podman", "inspect", GALAXY, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"],
                             check=True, capture_output=True, text=True).stdout.strip()
    gi = GalaxyInstance(f"https://{address}", key=key)
    gi.verify = str(REPO / ".build" / "lab" / "ca" / "ca.crt")
    return gi


def local_user_key(admin_key):
    """The API key of the user whose jobs run on Galaxy's local runner, made with the admin's key (the bootstrap key
    leaves galaxy.yml once the admin exists)."""
    gi = galaxy(admin_key)
    users = gi.users.get_users(f_email=LOCAL_USER) or [gi.users.create_local_user("bench-local", LOCAL_USER, "bench-local-password")]
    return gi.users.create_user_apikey(users[0]["id"])


def timed_jobs(gi, repeat):
    history = gi.histories.create_history("benchmark")["id"]
    upload = gi.make_post_request(f"{gi.url}/tools/fetch", payload={"history_id": history, "targets": [{
        "destination": {"type": "hdas"},
        "elements": [{"src": "pasted", "paste_content": "benchmark\n", "ext": "txt", "name": "input.txt"}]}]})
    dataset = upload["outputs"][0]["id"]
    gi.datasets.wait_for_dataset(dataset, maxwait=300)
    runs, runners = [], set()
    for _run in range(repeat):
        start = time.monotonic()
        run = gi.tools.run_tool(history, "cat1", {"input1": {"src": "hda", "id": dataset}})
        gi.datasets.wait_for_dataset(run["outputs"][0]["id"], maxwait=600, interval=0.5)
        runs.append(time.monotonic() - start)
        # Galaxy names the runner of Pulsar jobs only; a job without one ran on the local runner.
        params = gi.make_get_request(f"{gi.url}/jobs/{run['jobs'][0]['id']}/destination_params").json()
        runners.add(params.get("Runner") or "local")
    return runs, sorted(runners)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    admin_key = container_file("/etc/galaxy/admin_api_key").strip()
    admin = galaxy(admin_key)
    local = galaxy(local_user_key(admin_key))
    pulsar_runs, pulsar_runners = timed_jobs(admin, args.repeat)
    local_runs, local_runners = timed_jobs(local, args.repeat)
    pulsar_median, local_median = statistics.median(pulsar_runs), statistics.median(local_runs)
    print(json.dumps({
        "repeat": args.repeat,
        "pulsar": {"runners": pulsar_runners, "median_s": round(pulsar_median, 2), "runs_s": [round(r, 2) for r in pulsar_runs]},
        "local": {"runners": local_runners, "median_s": round(local_median, 2), "runs_s": [round(r, 2) for r in local_runs]},
        "ratio_pulsar_over_local": round(pulsar_median / local_median, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
