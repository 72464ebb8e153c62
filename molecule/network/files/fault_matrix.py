"""The fault matrix: for each fault a site meets, put a Galaxy job in flight at the stage named, inject the fault, end
it, and report what became of the job in Galaxy's job table and in HTCondor's history, the recovery time and the jobs
lost. Runs on the controller against the network scenario's containers (faults are injected with podman, as the lab's
own hardware). Prints a Markdown table and writes it, with the raw results as JSON, next to OUT.

  fault_matrix.py URL CA_FILE INVENTORY OUT [ROW ...]
The admin API key comes from the environment (GALAXY_API_KEY). Exit status 1 when any row misses its expectation.
"""
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))
import galaxy_job  # noqa: E402  (the scenario's Galaxy client, next to this file)

BROKER, GALAXY, HEAD, EXEC = "net-broker", "net-galaxy", "net-head", "net-exec"
LAB_NETWORK = "lab-network"
PULSAR = "pulsar@lab_galaxy"
WATCHDOG = "pulsar-watchdog@lab_galaxy"
VHOST = "/pulsar/lab_endpoint/lab_galaxy"  # pulsar_network: a vhost per (endpoint, Galaxy server)
AMQP_USER = "lab_endpoint.lab_galaxy"
STAGING = "/srv/pulsar/staging/lab_galaxy"
PERSISTED = "/var/lib/pulsar/lab_galaxy/persisted_data"
FILL = f"{STAGING}/../fault-matrix-fill"  # the disk-full row's file, on the staging file system
PAD_MB = 200
WATCHDOG_INTERVAL, WATCHDOG_GRACE = 20, 30  # pulsar_watchdog_interval and _grace in the scenario


def sh(host: str, script: str, check: bool = True, timeout: float = 300) -> str:
    """Run a shell script in a lab container; return its stdout."""
    done = subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{host}: {script!r} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=True).stdout.strip()


def lab_address(host: str) -> str:
    return podman("inspect", host, "--format", f'{{{{(index .NetworkSettings.Networks "{LAB_NETWORK}").IPAddress}}}}')


def pulsar_pid() -> str:
    return sh(HEAD, f"systemctl show -p MainPID --value {PULSAR}")


def condor_job(runner_id: str) -> str:
    """The HTCondor constraint that picks Pulsar's job RUNNER_ID."""
    return f'Cmd == "{STAGING}/{runner_id}/command.sh"'


def until(what: str, probe: Callable[[], object], timeout: float = 180, interval: float = 0.5):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


@dataclass
class Row:
    fault: str
    stage: str
    expected: str  # "complete" or "clear failure"
    jobs: list = field(default_factory=list)  # the jobs in flight, as galaxy_job.wait reports them
    runs: list = field(default_factory=list)  # their HTCondor history
    cause: str = ""  # for an expected failure: what Galaxy's job info must name
    known_issue: str = ""  # an upstream bug that keeps the row from its expectation: reported, not counted as a pass
    evidence: str = ""  # how the row knows the fault hit the stage it names
    fault_end: float = 0.0
    recovery_s: float | None = None
    lost: int = 0
    passed: bool = False
    problem: str = ""

    @property
    def verdict(self) -> str:
        """pass, known upstream failure (the bug's, not counted as a pass, not failing the matrix) or FAIL."""
        return "pass" if self.passed else "known upstream failure" if self.known_issue else "FAIL"


class Matrix:
    def __init__(self, url: str, ca_file: str, inventory: str):
        self.gi = galaxy_job.galaxy(url, ca_file)
        self.inventory = inventory
        self.history = self.gi.histories.create_history("fault matrix")["id"]
        self.small = self.upload(galaxy_job.CONTENT)
        self.big = None  # the padded output of the output-upload row, the staging row's input
        self.sleep_tool = next(t["id"] for t in self.gi.tools.get_tools() if t["id"].endswith("/pn_sleep/1.0.0"))

    # --- Galaxy -------------------------------------------------------------------------------------------------
    def upload(self, content: str) -> str:
        return galaxy_job.upload(self.gi, self.history, content)

    def submit(self, seconds: int = 0, pad_mb: int = 0, dataset: str | None = None) -> dict:
        dataset = dataset or self.small
        inputs = {"input": {"src": "hda", "id": dataset}, "seconds": seconds, "pad_mb": pad_mb}
        run = self.gi.tools.run_tool(self.history, self.sleep_tool, inputs)
        return {"history": self.history, "input": dataset, "job": run["jobs"][0]["id"],
                "output": run["outputs"][0]["id"], "expected_bytes": self.size(dataset) + pad_mb * 2**20}

    def size(self, dataset: str) -> int:
        return int(self.gi.datasets.show_dataset(dataset)["file_size"])

    def runner_job_id(self, ids: dict, timeout: float = 120) -> str:
        return until("Galaxy to hand the job to Pulsar", lambda: galaxy_job.state(self.gi, ids)["runner_job_id"], timeout)

    def finish(self, ids: dict, timeout: float = 300) -> dict:
        result = galaxy_job.wait(self.gi, ids, timeout=timeout, fetch=False)
        result["finished_at"] = time.time()
        result["bytes"] = self.size(ids["output"]) if result["output_state"] == "ok" else None
        result["table_state"], result["info"] = self.job_table(ids["job"])
        details = self.gi.jobs.show_job(ids["job"], full_details=True)
        result["stderr"] = "\n".join(details.get(key) or "" for key in ("job_stderr", "tool_stderr"))
        return result

    def job_table(self, encoded_id: str) -> tuple[str, str]:
        """The job's state and info in Galaxy's own job table (PostgreSQL), the ground truth."""
        job_id = self.gi.make_get_request(f"{self.gi.url}/configuration/decode/{encoded_id}").json()["decoded_id"]
        row = sh(GALAXY, f"runuser -u postgres -- psql -d galaxy -At -F '|' -c 'select state, info from job where id = {job_id}'")
        state, info = (row.split("|", 1) + [""])[:2]
        return state, info

    def unfinished_jobs(self) -> int:
        return int(sh(GALAXY, "runuser -u postgres -- psql -d galaxy -At -c \"select count(*) from job where state "
                              "not in ('ok', 'error', 'deleted', 'deleting', 'paused', 'skipped')\""))

    # --- the endpoint -------------------------------------------------------------------------------------------
    def wait_running(self, runner_id: str) -> None:
        until("HTCondor to run the job",
              lambda: sh(HEAD, f"condor_q -allusers -constraint 'JobStatus == 2 && {condor_job(runner_id)}' -af ClusterId"))

    def condor_runs(self, runner_id: str) -> dict:
        line = sh(HEAD, f"condor_history -limit 1 -constraint '{condor_job(runner_id)}' "
                        "-af ClusterId ExitCode NumJobStarts LastRemoteHost")
        keys = ("cluster", "exit_code", "starts", "host")
        return dict(zip(keys, line.split())) if line else {}

    @staticmethod
    def queue_column(column: str) -> dict:
        """One figure of every queue on the endpoint's vhost, as rabbitmqctl reports it: {queue: value}."""
        queues = json.loads(sh(BROKER, f"rabbitmqctl list_queues -p {VHOST} name {column} --formatter json"))
        return {q["name"]: q[column] for q in queues}

    def setup_messages_ready(self) -> int:
        return sum(ready for name, ready in self.queue_column("messages_ready").items() if name.endswith("__setup"))

    def restart_pulsar_when(self, condition: str, timeout: int = 120) -> str:
        """Inside the head (no round trip between seeing the stage and the restart): wait until the shell test
        `condition` holds, restart Pulsar, print what the condition saw."""
        return sh(HEAD, f"""
            end=$(( $(date +%s) + {timeout} ))
            until {condition}; do [ $(date +%s) -lt $end ] || exit 3; sleep 0.05; done
            pre=$(ls {PERSISTED}/production-preprocessing-jobs | tr '\\n' ' ')
            post=$(ls {PERSISTED}/production-postprocessing-jobs | tr '\\n' ' ')
            job=$(echo $pre $post | cut -d' ' -f1)
            sizes="$(du -sb {STAGING}/$job/inputs {STAGING}/$job/outputs | awk '{{printf "%s %s B; ", $2, $1}}')"
            systemctl restart {PULSAR}
            echo "at the restart: preprocessing [$pre], postprocessing [$post]; ${{sizes%; }}"
        """, timeout=timeout + 60)

    def consumers(self, queue: str) -> int:
        return self.queue_column("consumers").get(queue, 0)

    def pulsar_consuming(self) -> bool:
        return self.consumers("pulsar_production__setup") > 0

    # --- a row --------------------------------------------------------------------------------------------------
    def conclude(self, row: Row, in_flight: list[dict], runner_ids: list[str]) -> Row:
        """After the fault's end (row.fault_end): send a probe job, wait for it and the jobs in flight, and judge."""
        probe = self.submit()
        row.jobs = [self.finish(ids) for ids in in_flight]
        row.runs = [self.condor_runs(runner_id) for runner_id in runner_ids]
        probe_result = self.finish(probe)
        if probe_result["output_state"] == "ok":
            row.recovery_s = round(probe_result["finished_at"] - row.fault_end, 1)
        problems = []
        for ids, job in zip(in_flight, row.jobs):
            if row.expected == "complete" and not (job["table_state"] == "ok" and job["bytes"] == ids["expected_bytes"]):
                row.lost += 1
                problems.append(f"job {job['job']}: {job['table_state']}, {job['bytes']} bytes "
                                f"(expected ok, {ids['expected_bytes']}); {job['info']}")
            if row.expected != "complete" and not (job["table_state"] == "error"
                                                   and row.cause in job["info"] + job["stderr"]):
                problems.append(f"job {job['job']}: {job['table_state']}, info {job['info']!r}: no clear failure")
        if probe_result["table_state"] != "ok":
            problems.append(f"the next job after the fault: {probe_result['table_state']} {probe_result['info']}")
        row.problem = "; ".join(problems)
        row.passed = not problems
        return row


def row_table(rows: list[Row]) -> str:
    lines = ["| fault | in flight when | expected | Galaxy (job table) | HTCondor (condor_history) | recovery | lost | result |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        galaxy = ", ".join(job["table_state"] for job in row.jobs) or "-"
        condor = "; ".join(f"exit {r['exit_code']}, {r['starts']} start(s) on {r['host'].split('@')[-1]}"
                           if r else "no run" for r in row.runs) or "-"
        recovery = f"{row.recovery_s} s" if row.recovery_s is not None else "-"
        result = {"FAIL": f"FAIL: {row.problem}", "known upstream failure": "known upstream failure (below)"}.get(row.verdict, "pass")
        if row.known_issue and row.passed:  # the bug and what happened go below the table, which stays readable
            result = "pass, although an upstream failure was expected (below)"
        lines.append(f"| {row.fault} | {row.stage} | {row.expected} | {galaxy} | {condor} | {recovery} | {row.lost} | {result} |")
    lines += ["", "How each row knows its fault hit the stage it names:", ""]
    lines += [f"{number}. {row.fault}: {row.evidence or '-'}" for number, row in enumerate(rows, 1)]
    known = [row for row in rows if row.known_issue]
    if known:
        lines += ["", "Known upstream failures:", ""]
        lines += [f"- {row.fault}: {row.known_issue}. What happened: {row.problem or 'the row passed'}" for row in known]
    return "\n".join(lines)


# --- the rows, in the order they run -------------------------------------------------------------------------------
def running_job(m: Matrix, seconds: int = 25) -> tuple[dict, str]:
    """A job held in HTCondor for `seconds`, once it runs there."""
    ids = m.submit(seconds=seconds)
    runner_id = m.runner_job_id(ids)
    m.wait_running(runner_id)
    return ids, runner_id


def broker_restart(m: Matrix) -> Row:
    row = Row("broker restart", "a job running in HTCondor, a second job's setup message waiting in the queue",
              "complete")
    running, running_id = running_job(m)
    # A consuming Pulsar takes a setup message at once: hold the second one by stopping Pulsar while it is sent.
    sh(HEAD, f"systemctl stop {PULSAR}")
    waiting = m.submit()
    waiting_id = m.runner_job_id(waiting)
    until("the setup message to wait in the queue", m.setup_messages_ready)
    sh(BROKER, "systemctl restart rabbitmq-server")
    row.evidence = f"{m.setup_messages_ready()} setup message(s) ready after the broker's restart"
    sh(HEAD, f"systemctl start {PULSAR}")
    row.fault_end = time.time()
    m.conclude(row, [running, waiting], [running_id, waiting_id])
    row.evidence += f"; Galaxy's status_update consumers afterwards: {m.consumers('pulsar_production__status_update')}"
    return row


def pulsar_restart_output_upload(m: Matrix) -> Row:
    row = Row("Pulsar restart", f"output upload ({PAD_MB} MiB) in progress", "complete")
    ids = m.submit(pad_mb=PAD_MB)
    # Watched from the moment of submission: the stage can be over before Galaxy reports Pulsar's job id.
    row.evidence = m.restart_pulsar_when(f"[ -n \"$(ls {PERSISTED}/production-postprocessing-jobs)\" ]")
    runner_id = m.runner_job_id(ids)
    row.fault_end = time.time()
    m.conclude(row, [ids], [runner_id])
    m.big = ids["output"]
    return row


def pulsar_restart_staging(m: Matrix) -> Row:
    row = Row("Pulsar restart", f"input staging ({PAD_MB} MiB) in progress", "complete")
    if not m.big:  # run alone: make the big input the output-upload row leaves
        padded = m.submit(pad_mb=PAD_MB)
        m.finish(padded)
        m.big = padded["output"]
    ids = m.submit(dataset=m.big)
    row.evidence = m.restart_pulsar_when(f"job=$(ls {PERSISTED}/production-preprocessing-jobs) && [ -n \"$job\" ] && "
                                         f"[ -n \"$(ls {STAGING}/$job/inputs 2>/dev/null)\" ]")
    runner_id = m.runner_job_id(ids)
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def execute_node_lost(m: Matrix) -> Row:
    row = Row("execute node lost (container stopped)", "job running on it", "complete")
    ids, runner_id = running_job(m, seconds=30)
    podman("stop", "--time", "10", EXEC)
    row.evidence = "idle again in condor_q while the node was away: " + until(
        "HTCondor to put the job back in the queue",
        lambda: sh(HEAD, f"condor_q -allusers -constraint 'JobStatus == 1 && {condor_job(runner_id)}' -af ClusterId"),
        timeout=120)
    podman("start", EXEC)
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def central_manager_restart(m: Matrix) -> Row:
    row = Row("central manager restart", "job running", "complete")
    ids, runner_id = running_job(m)
    sh(HEAD, "systemctl restart condor")
    until("the collector to answer", lambda: sh(HEAD, "condor_status -af Name", check=False))
    row.evidence = "condor restarted on the central manager (also the submit node)"
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def galaxy_handler_restart(m: Matrix) -> Row:
    row = Row("Galaxy job handler restart", "job running on the endpoint", "complete")
    ids, runner_id = running_job(m)
    handler = galaxy_job.state(m.gi, ids)["handler"]  # handler_N
    unit = f"galaxy-handler@{handler.rsplit('_', 1)[-1]}"
    sh(GALAXY, f"systemctl restart {unit}")
    row.evidence = f"restarted {unit}, the job's handler"
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def journal_since(unit: str, since: float, grep: str) -> int:
    """Lines of UNIT's journal on the head since the epoch time SINCE that match the extended regex GREP."""
    return int(sh(HEAD, f"journalctl -u {unit} --since @{since:.0f} -o cat | grep -cE '{grep}' || true"))


def first_logged(unit: str, since: float, grep: str) -> float | None:
    """When UNIT first logged a line matching GREP since SINCE (epoch seconds), or None."""
    stamp = sh(HEAD, f"journalctl -u {unit} --since @{since:.0f} -o short-unix | grep -m1 -E '{grep}' | cut -d' ' -f1")
    return float(stamp) if stamp else None


def galaxy_cut_off(m: Matrix, seconds: int = 60) -> Row:
    # With pycurl (pulsar_staging_transport: curl) the upload is not retried: pulsar-app 0.16.0 files curl's error
    # code as an HTTP status. The role's default, requests, retries it.
    row = Row(f"Galaxy cut off from the broker for {seconds} s", "job running", "complete")
    ids, runner_id = running_job(m, seconds=20)
    address = lab_address(GALAXY)
    cut = time.time()
    podman("network", "disconnect", LAB_NETWORK, GALAXY)
    try:
        time.sleep(seconds)
        row.evidence = f"{GALAXY} off {LAB_NETWORK} for {seconds} s; the job's HTCondor run ended meanwhile: " + (
            m.condor_runs(runner_id).get("exit_code", "no"))
    finally:
        podman("network", "connect", "--ip", address, LAB_NETWORK, GALAXY)
    row.fault_end = time.time()
    m.conclude(row, [ids], [runner_id])
    row.evidence += f"; Pulsar retried staging {journal_since(PULSAR, cut, 'Failed to execute .*retrying')} time(s)"
    return row


def staging_disk_full(m: Matrix) -> Row:
    row = Row("staging disk full on the endpoint", "job starting", "clear failure", cause="No space left on device",
              known_issue=("pulsar-app 0.16.0 reports a failed setup with no message (manager_endpoint_util.submit_job "
                           "sends the failure without the exception): the ENOSPC is in Pulsar's journal, Galaxy shows "
                           "only 'Remote job server indicated a problem'"))
    if sh(HEAD, f"stat -f -c %T {STAGING}") != "tmpfs":  # never fill a disk that is not the lab's own (scripts/lab-volumes.sh)
        raise RuntimeError(f"{STAGING} is not on the lab's size-limited tmpfs volume; run make lab-host first")
    filled = time.time()
    sh(HEAD, f"dd if=/dev/zero of={FILL} bs=1M 2>/dev/null; [ $(df --output=avail -B1 {STAGING} | tail -1) -lt 1048576 ]")
    try:
        free = sh(HEAD, f"df --output=avail -B1 {STAGING} | tail -1")
        ids = m.submit()
        runner_id = m.runner_job_id(ids)
        m.finish(ids)  # the job ends, or the wait gives up, while the disk is still full
        # The mitigation: the watchdog names the cause in its journal (and exports the free space) within its interval.
        named = until("the watchdog to report the full staging disk",
                      lambda: first_logged(WATCHDOG, filled, '"staging_low"'), timeout=WATCHDOG_INTERVAL + 30)
    finally:
        sh(HEAD, f"rm -f {FILL}")
    row.evidence = (f"{free} bytes free on the staging file system while the job started; the watchdog logged "
                    f"staging_low {named - filled:.1f} s after the fill began")
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def converge_during_job(m: Matrix) -> Row:
    row = Row("a converge that restarts Pulsar (changed setting)", "job running", "complete")
    ids, runner_id = running_job(m, seconds=30)
    before = pulsar_pid()
    try:
        changed = converge(m.inventory, {"pulsar_amqp_consumer_timeout": 3.0})
        after = pulsar_pid()
        row.evidence = f"the converge changed {changed} task(s); Pulsar's pid {before} -> {after}"
        row.fault_end = time.time()
        m.conclude(row, [ids], [runner_id])
    finally:
        converge(m.inventory, {})  # back to the scenario's settings, with no job in flight
    if before == after:
        row.passed, row.problem = False, "the converge did not restart Pulsar: the row tested nothing"
    return row


def converge(inventory: str, extra_vars: dict) -> int:
    """Converge the Pulsar head's configuration and service phases as a site would; return the number of changes."""
    done = subprocess.run(["ansible-playbook", "-i", inventory, "esg.pulsar_network.pulsar_endpoint", "--limit", HEAD,
                           "--tags", "pulsar_configure,pulsar_service", "-e", json.dumps(extra_vars)],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"the converge failed: {done.stdout[-2000:]}")
    recap = [line for line in done.stdout.splitlines() if line.startswith(HEAD) and "changed=" in line][-1]
    return int(recap.split("changed=")[1].split()[0])


def broker_down_outbox(m: Matrix) -> Row:
    row = Row("broker down while the job finishes", "the job's final status update (Pulsar's outbox)", "complete")
    ids, runner_id = running_job(m, seconds=10)
    sh(BROKER, "systemctl stop rabbitmq-server")
    try:
        outbox = f"{PERSISTED}/production-status-outbox"
        row.evidence = "held in the outbox while the broker was down: " + until(
            "the final status update to wait in Pulsar's outbox",
            lambda: sh(HEAD, f"grep -l '\"complete\"' {outbox}/*.json 2>/dev/null | wc -l | grep -v '^0$'", check=False),
            timeout=120) + " file(s)"
    finally:
        sh(BROKER, "systemctl start rabbitmq-server")
    row.fault_end = time.time()
    return m.conclude(row, [ids], [runner_id])


def consumer_lost(m: Matrix) -> Row:
    row = Row("Pulsar alive with no setup consumer (its consume thread died)", "the next job sent meanwhile", "complete")
    # The upstream failure, reproduced: a consume thread that meets an error it does not retry quits, and Pulsar runs
    # on without it. Refusing Pulsar's read on the setup queue while its connections are closed is such an error.
    head = lab_address(HEAD)
    pid = pulsar_pid()
    since = time.time()
    sh(BROKER, f"""
        rabbitmqctl set_permissions -p {VHOST} {AMQP_USER} '.*' '.*' '^(?!pulsar_production__setup$).*' >/dev/null
        rabbitmqctl list_connections pid name -q | awk -F '\\t' 'index($2, "{head}:") == 1 {{print $1}}' |
          while read -r connection; do rabbitmqctl close_connection "$connection" 'fault matrix' >/dev/null; done
        sleep 5
        rabbitmqctl set_permissions -p {VHOST} {AMQP_USER} '.*' '.*' '.*' >/dev/null
    """)
    lost_at = time.time()
    quit_seen = journal_since(PULSAR, since, "consumer quitting")
    ids = m.submit()
    runner_id = m.runner_job_id(ids)
    until("the setup queue's consumer to come back", m.pulsar_consuming, timeout=WATCHDOG_INTERVAL + WATCHDOG_GRACE + 60)
    row.fault_end = time.time()
    restarts = journal_since(WATCHDOG, since, '"restart"')
    row.evidence = (f"{quit_seen} consume thread(s) quit while Pulsar (pid {pid}) ran on; the setup consumer was back "
                    f"{row.fault_end - lost_at:.0f} s after the permission was restored, after {restarts} watchdog "
                    f"restart(s) (pid now {pulsar_pid()})")
    return m.conclude(row, [ids], [runner_id])


ROWS = {
    "broker_restart": broker_restart,
    "pulsar_restart_output_upload": pulsar_restart_output_upload,
    "pulsar_restart_staging": pulsar_restart_staging,
    "execute_node_lost": execute_node_lost,
    "central_manager_restart": central_manager_restart,
    "galaxy_handler_restart": galaxy_handler_restart,
    "galaxy_cut_off": galaxy_cut_off,
    "staging_disk_full": staging_disk_full,
    "converge_during_job": converge_during_job,
    "broker_down_outbox": broker_down_outbox,
    "consumer_lost": consumer_lost,
}


def tidy() -> None:
    """Remove the staging directories of jobs Pulsar no longer tracks, as pulsar-tidy does after days: in message
    queue mode nobody removes a finished job's directory (Galaxy's clean() is a no-op for MessageJobClient), and the
    big rows would fill the lab's small staging volume."""
    indexes = ("active-jobs", "preprocessing-jobs", "postprocessing-jobs")
    tracked = " ".join(f"{PERSISTED}/production-{index}/$job" for index in indexes)
    sh(HEAD, f"cd {STAGING} && for job in *; do tracked=no; for f in {tracked}; do [ -e $f ] && tracked=yes; done; "
             f"[ $tracked = yes ] || rm -rf -- \"$job\"; done")


def restore() -> None:
    """Bring every part of the lab back after a row that failed halfway."""
    podman("start", EXEC)
    subprocess.run(["podman", "network", "connect", LAB_NETWORK, GALAXY], capture_output=True, check=False)
    sh(BROKER, "systemctl start rabbitmq-server", check=False)
    sh(HEAD, f"rm -f {FILL}; systemctl start condor {PULSAR}", check=False)


def main() -> int:
    url, ca_file, inventory, out = sys.argv[1:5]
    names = sys.argv[5:] or list(ROWS)
    matrix = Matrix(url, ca_file, inventory)
    rows = []
    for name in names:
        started = time.monotonic()
        try:
            row = ROWS[name](matrix)
        except Exception as error:  # the row could not be staged or waited for: it fails, the matrix goes on
            row = Row(name, "-", "-", problem=f"{type(error).__name__}: {error}")
            restore()
        tidy()
        print(f"{name}: {row.verdict} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        rows.append(row)
    try:  # a row that failed halfway may leave a job that finishes late: give it its chance
        until("Galaxy to finish every job", lambda: matrix.unfinished_jobs() == 0, timeout=120, interval=5)
    except TimeoutError:
        pass
    table = row_table(rows)
    unfinished = matrix.unfinished_jobs()
    summary = f"\nJobs unfinished in Galaxy's job table after the matrix (lost): {unfinished}"
    print(table + summary)
    Path(out).write_text(table + summary + "\n")
    Path(out).with_suffix(".json").write_text(json.dumps([row.__dict__ for row in rows], indent=2, default=str))
    return 0 if all(row.verdict != "FAIL" for row in rows) and unfinished == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
