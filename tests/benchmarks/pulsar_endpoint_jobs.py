"""Benchmark jobs through a Pulsar endpoint: latency against condor_submit on the same pool, and throughput.

Needs the lab from `make lab` (`make bench-pulsar-endpoint` runs it first). Copies this file into the Pulsar head and
runs there, in Pulsar's virtualenv, with the collection's shared code the pulsar role installed beside its watchdog:

- latency: --repeat no-op jobs one after another through the broker and Pulsar (send to final status update), and
  the same no-op with condor_submit as the pulsar user on the same pool (submit to the job's termination in its
  log); medians and their ratio;
- throughput: --burst no-op jobs sent at once, wall time until every final status arrived, as jobs per minute;
- polling cost: --active jobs that sleep, held by Pulsar at once, and the CPU seconds Pulsar's process used per minute
  while they waited (Pulsar reads each active job's HTCondor log every min_polling_interval), read from /proc.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

HEAD = "pn-lab-head"
REMOTE_DIR = "/root/pulsar-bench"
SHARED_CODE_ROOT = "/opt/pulsar/watchdog"  # the pulsar role's watchdog directory (roles/common shared_code)


def on_host(args):
    subprocess.run(["podman", "exec", HEAD, "mkdir", "-p", REMOTE_DIR], check=True)
    subprocess.run(["podman", "cp", str(pathlib.Path(__file__)), f"{HEAD}:{REMOTE_DIR}/"], check=True)
    command = ["podman", "exec", HEAD, "/opt/pulsar/venv/bin/python", f"{REMOTE_DIR}/{pathlib.Path(__file__).name}",
               "--in-head", "--repeat", str(args.repeat), "--burst", str(args.burst),
               "--active", str(args.active)]
    sys.exit(subprocess.run(command, check=False).returncode)


def condor_noop(work_dir: str) -> float:
    """Seconds from condor_submit to the job's termination event, as the pulsar user, on the shared storage."""
    job_dir = tempfile.mkdtemp(prefix="condor-noop-", dir=work_dir)
    os.chown(job_dir, 880, 880)
    submit = (f"universe = vanilla\nexecutable = /bin/true\ninitialdir = {job_dir}\nlog = {job_dir}/job.log\n"
              "request_cpus = 1\nrequest_memory = 256M\nqueue\n")
    start = time.monotonic()
    subprocess.run(["runuser", "-u", "pulsar", "--", "condor_submit", "-"], input=submit, text=True, check=True,
                   capture_output=True, cwd=job_dir)
    subprocess.run(["runuser", "-u", "pulsar", "--", "condor_wait", "-wait", "300", f"{job_dir}/job.log"], check=True,
                   capture_output=True)
    return time.monotonic() - start


def pulsar_cpu_seconds() -> float:
    """User and system CPU seconds used so far by the Pulsar process of the lab's Galaxy server."""
    pid = subprocess.run(["systemctl", "show", "-p", "MainPID", "--value", "pulsar@lab_galaxy"], check=True,
                         capture_output=True, text=True).stdout.strip()
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def polling_cost(jobs, send, count: int, window: float = 30.0) -> float:
    """CPU seconds per minute of Pulsar's process while `count` sleeping jobs are active; the jobs are killed after."""
    active = [send(2000 + index, "sleep 600") for index in range(count)]
    time.sleep(15)  # every job staged and queued in HTCondor; the pool runs two of them
    before = pulsar_cpu_seconds()
    time.sleep(window)
    used = pulsar_cpu_seconds() - before
    for job_id in active:
        jobs.kill(job_id)
    jobs.wait(active, 600)
    return used / window * 60


def in_head(args):
    sys.path.insert(0, SHARED_CODE_ROOT)
    # pylint: disable=import-outside-toplevel
    import yaml
    from ansible_collections.esg.pulsar_network.plugins.module_utils.job_files import JobFilesServer
    from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_client import PulsarJobs
    from pulsar_watchdog import broker_settings

    with open("/etc/pulsar/lab_galaxy/app.yml", encoding="utf-8") as handle:
        app = yaml.safe_load(handle)
    staging = app["staging_directory"]
    work = tempfile.mkdtemp(prefix="pulsar-bench-")
    url, ca_file = broker_settings(app)  # Pulsar's own broker settings, as its watchdog reads them from app.yml
    jobs = PulsarJobs(url, "endpoint_check", ca_file)
    try:
        with JobFilesServer(work) as files:
            def send(index, command="true"):
                return jobs.submit(os.path.join(work, f"job{index}"), command, {}, [], files.url, staging)

            pulsar_runs = []
            for index in range(args.repeat):
                start = time.monotonic()
                job_id = send(index)
                final = jobs.wait([job_id], 300)[job_id]
                pulsar_runs.append(time.monotonic() - start)
                assert final["status"] == "complete" and final["returncode"] == 0, final
            condor_runs = [condor_noop(os.path.dirname(staging)) for _run in range(args.repeat)]

            start = time.monotonic()
            burst = [send(1000 + index) for index in range(args.burst)]
            sent = time.monotonic() - start
            finals = jobs.wait(burst, 1800)
            burst_wall = time.monotonic() - start
            failed = [j for j, f in finals.items() if f["status"] != "complete" or f["returncode"] != 0]
            idle_cpu = polling_cost(jobs, send, 0) if args.active else None
            active_cpu = polling_cost(jobs, send, args.active) if args.active else None
    finally:
        jobs.close()

    pulsar_median, condor_median = statistics.median(pulsar_runs), statistics.median(condor_runs)
    figures = {
        "repeat": args.repeat,
        "pulsar_noop_median_s": round(pulsar_median, 2),
        "pulsar_noop_min_max_s": [round(min(pulsar_runs), 2), round(max(pulsar_runs), 2)],
        "condor_submit_noop_median_s": round(condor_median, 2),
        "condor_submit_noop_min_max_s": [round(min(condor_runs), 2), round(max(condor_runs), 2)],
        "latency_ratio_pulsar_over_condor": round(pulsar_median / condor_median, 2),
        "burst_jobs": args.burst,
        "burst_send_s": round(sent, 2),
        "burst_wall_s": round(burst_wall, 1),
        "burst_jobs_per_minute": round(args.burst / burst_wall * 60, 1),
        "burst_failed": len(failed),
        "min_polling_interval_s": app["managers"]["endpoint_check"]["min_polling_interval"],
        "active_jobs": args.active,
        "pulsar_cpu_s_per_minute_idle": None if idle_cpu is None else round(idle_cpu, 2),
        "pulsar_cpu_s_per_minute_active": None if active_cpu is None else round(active_cpu, 2),
    }
    print(json.dumps(figures, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--active", type=int, default=100, help="sleeping jobs held at once for the polling cost; 0 skips it")
    parser.add_argument("--in-head", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_head:
        in_head(args)
    else:
        on_host(args)


if __name__ == "__main__":
    main()
