"""The fault matrix: for each fault a site meets, put a Galaxy job in flight at the stage named, inject the fault, end
it, and report what became of the job in Galaxy's job table and in HTCondor's history, the recovery time and the jobs
lost. Runs on the controller against the network scenario's containers (faults are injected with podman, as the lab's
own hardware). Prints a Markdown table and writes it, with the raw results as JSON, next to OUT. From the repository
root:

  python -m tests.lab.fault_matrix URL CA_FILE INVENTORY OUT [ROW ...]
The admin API key comes from the environment (GALAXY_API_KEY). Exit status 1 when any row misses its expectation.

This module is the runner: Matrix puts jobs in flight and judges each row by Galaxy's job table and condor_history.
The rows, how each fault is injected and healed, are fault_rows'; the table is fault_report's; the lab's names and
shell are network_lab's.
"""
import argparse
import json
import sys
import time

from tests.lab import fault_report, galaxy_job
from tests.lab.fault_report import Row
from tests.lab.fault_rows import ROWS, restore
from tests.lab.network_lab import BROKER, GALAXY, HEAD, PERSISTED, PULSAR, STAGING, VHOST, condor_job, sh, until


class Matrix:
    """What the rows run on: a Galaxy history with the pn_sleep tool to put jobs in flight, the probes of Galaxy's
    job table, HTCondor and the broker, and conclude(), which judges a row."""

    def __init__(self, url: str, ca_file: str, inventory: str):
        self.gi = galaxy_job.galaxy(url, ca_file)
        self.inventory = inventory
        self.history = self.gi.histories.create_history("fault matrix")["id"]
        self.small = self.upload(galaxy_job.CONTENT)
        self.big = None  # the padded output of the output-upload row, the staging row's input
        self.sleep_tool = galaxy_job.shed_tool(self.gi, "pn_sleep")

    # --- Galaxy -------------------------------------------------------------------------------------------------
    def upload(self, content: str) -> str:
        return galaxy_job.upload(self.gi, self.history, content)

    def submit(self, seconds: int = 0, pad_mb: int = 0, dataset: str | None = None) -> dict:
        dataset = dataset or self.small
        run = self.gi.tools.run_tool(self.history, self.sleep_tool, galaxy_job.sleep_inputs(dataset, seconds, pad_mb))
        return {**galaxy_job.job_ids(self.history, dataset, run), "expected_bytes": self.size(dataset) + pad_mb * 2**20}

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


def tidy() -> None:
    """Remove the staging directories of jobs Pulsar no longer tracks, as pulsar-tidy does after days: in message
    queue mode nobody removes a finished job's directory (Galaxy's clean() is a no-op for MessageJobClient), and the
    big rows would fill the lab's small staging volume."""
    indexes = ("active-jobs", "preprocessing-jobs", "postprocessing-jobs")
    tracked = " ".join(f"{PERSISTED}/production-{index}/$job" for index in indexes)
    sh(HEAD, f"cd {STAGING} && for job in *; do tracked=no; for f in {tracked}; do [ -e $f ] && tracked=yes; done; "
             f"[ $tracked = yes ] || rm -rf -- \"$job\"; done")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab.fault_matrix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="Galaxy's address")
    parser.add_argument("ca_file", help="the lab CA's certificate, to check Galaxy's")
    parser.add_argument("inventory", help="the scenario's inventory (the converge row runs ansible-playbook with it)")
    parser.add_argument("out", help="where to write the table (Markdown); the raw results go beside it as .json")
    parser.add_argument("rows", nargs="*", metavar="ROW", help=f"rows to run, by name (default: all): {', '.join(ROWS)}")
    args = parser.parse_args(argv)
    names = args.rows or list(ROWS)
    matrix = Matrix(args.url, args.ca_file, args.inventory)
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
    return fault_report.write(rows, matrix.unfinished_jobs(), args.out)


if __name__ == "__main__":
    sys.exit(main())
