"""Benchmark a Galaxy tool job through the Pulsar Network against the same tool on the same Galaxy's local runner.

Needs the lab from `make lab` (`make bench-galaxy-network` runs it first). Through Galaxy's API with bioblend, as a
user would: the lab admin's Concatenate jobs go to the Pulsar endpoint (TPV), those of a second user listed in
usegalaxy_replica_local_users run on Galaxy's local runner. For each, --repeat times: upload a small dataset, then
time Concatenate from the tool request to its output being 'ok'. Prints the medians and their ratio as JSON, and
where each path's time went, from Galaxy's own records of each job (job_state_history and the core job metrics):

- pickup: created until a handler queued it;
- to_tool: queued until the tool's command started (for Pulsar: the setup message, staging in, HTCondor matching);
- tool: the job script's run (on the local runner it includes setting metadata, which Galaxy appends to the script);
- to_ok: the tool's end until the job was 'ok' (for Pulsar: Pulsar noticing the end, staging out, the status
  message and setting metadata on the handler).
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


PHASES_SQL = """
select j.id, extract(epoch from j.create_time),
  (select extract(epoch from min(h.create_time)) from job_state_history h where h.job_id = j.id and h.state = 'queued'),
  (select metric_value from job_metric_numeric m where m.job_id = j.id and m.plugin = 'core' and m.metric_name = 'start_epoch'),
  (select metric_value from job_metric_numeric m where m.job_id = j.id and m.plugin = 'core' and m.metric_name = 'end_epoch'),
  (select extract(epoch from min(h.create_time)) from job_state_history h where h.job_id = j.id and h.state = 'ok')
from job j where j.id in ({ids})
"""
PHASES = ("pickup", "to_tool", "tool", "to_ok")


def phases(gi, job_ids):
    """Median seconds of each phase over the jobs, from Galaxy's database (the core metrics have 1 s resolution)."""
    decoded = [str(int(gi.make_get_request(f"{gi.url}/configuration/decode/{job}").json()["decoded_id"])) for job in job_ids]
    rows = subprocess.run(["podman", "exec", GALAXY, "runuser", "-u", "postgres", "--", "psql", "-d", "galaxy", "-At", "-F", ",",
                           "-c", PHASES_SQL.format(ids=",".join(decoded))], check=True, capture_output=True, text=True).stdout
    per_phase = {phase: [] for phase in PHASES}
    for row in rows.splitlines():
        created, queued, start, end, ok = (float(value) for value in row.split(",")[1:])
        for phase, (since, until) in zip(PHASES, ((created, queued), (queued, start), (start, end), (end, ok))):
            per_phase[phase].append(until - since)
    return {phase: round(statistics.median(values), 2) for phase, values in per_phase.items()}


def timed_jobs(gi, repeat):
    history = gi.histories.create_history("benchmark")["id"]
    upload = gi.make_post_request(f"{gi.url}/tools/fetch", payload={"history_id": history, "targets": [{
        "destination": {"type": "hdas"},
        "elements": [{"src": "pasted", "paste_content": "benchmark\n", "ext": "txt", "name": "input.txt"}]}]})
    dataset = upload["outputs"][0]["id"]
    gi.datasets.wait_for_dataset(dataset, maxwait=300)
    runs, runners, jobs = [], set(), []
    for _run in range(repeat):
        start = time.monotonic()
        run = gi.tools.run_tool(history, "cat1", {"input1": {"src": "hda", "id": dataset}})
        gi.datasets.wait_for_dataset(run["outputs"][0]["id"], maxwait=600, interval=0.5)
        runs.append(time.monotonic() - start)
        jobs.append(run["jobs"][0]["id"])
        # Galaxy names the runner of Pulsar jobs only; a job without one ran on the local runner.
        params = gi.make_get_request(f"{gi.url}/jobs/{run['jobs'][0]['id']}/destination_params").json()
        runners.add(params.get("Runner") or "local")
    return runs, sorted(runners), jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    admin_key = container_file("/etc/galaxy/admin_api_key").strip()
    admin = galaxy(admin_key)
    local = galaxy(local_user_key(admin_key))
    pulsar_runs, pulsar_runners, pulsar_jobs = timed_jobs(admin, args.repeat)
    local_runs, local_runners, local_jobs = timed_jobs(local, args.repeat)
    pulsar_median, local_median = statistics.median(pulsar_runs), statistics.median(local_runs)
    print(json.dumps({
        "repeat": args.repeat,
        "pulsar": {"runners": pulsar_runners, "median_s": round(pulsar_median, 2), "runs_s": [round(r, 2) for r in pulsar_runs],
                   "phases_median_s": phases(admin, pulsar_jobs)},
        "local": {"runners": local_runners, "median_s": round(local_median, 2), "runs_s": [round(r, 2) for r in local_runs],
                  "phases_median_s": phases(admin, local_jobs)},
        "ratio_pulsar_over_local": round(pulsar_median / local_median, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
