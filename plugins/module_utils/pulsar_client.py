# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Jobs sent to a Pulsar endpoint through its broker, the way Galaxy sends them, with Pulsar's own client library.

Galaxy hands Pulsar a job whose inputs Pulsar downloads from, and whose outputs it uploads to, Galaxy's job files
API (the remote_transfer staging action); job_files.py is that API in miniature. PulsarJobs submits jobs and
collects their status updates; run_one sends one job and waits for it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import traceback
import uuid

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import pulsar_client_params
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import KOMBU_IMPORT_ERROR, BrokerError
from ansible_collections.esg.pulsar_network.plugins.module_utils.job_files import JobFilesServer

try:
    from pulsar.client.manager import build_client_manager
    from pulsar.client.staging.inputs import CLIENT_INPUT_PATH_TYPES, ClientInput, ClientInputs
    from pulsar.client.staging.models import ClientJobDescription, ClientOutputs
    from pulsar.client.staging.up import submit_job
except ImportError:
    PULSAR_IMPORT_ERROR = traceback.format_exc()
else:
    PULSAR_IMPORT_ERROR = KOMBU_IMPORT_ERROR  # its AMQP transport, and the queue check before sending

PLACEHOLDER = re.compile(r"\{(input|output):([^{}]*)\}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
FINAL_STATES = ("complete", "failed", "lost", "cancelled")


JOB_SUBDIRS = ("working", "metadata", "inputs", "outputs", "tool")


def job_dirs(job_dir: str, create: bool = False) -> dict:
    """A Galaxy-like job directory's parts by name (working, metadata, inputs, outputs, tool), made when create."""
    dirs = {name: os.path.join(job_dir, name) for name in JOB_SUBDIRS}
    if create:
        for path in dirs.values():
            os.makedirs(path, exist_ok=True)
    return dirs


class JobError(BrokerError):
    """A job that could not be sent or did not finish well: a broker's kind (unreachable, auth_failed, error) or the
    job's own (no_consumer, failed, timeout)."""


def check_file_names(inputs, outputs) -> None:
    for name in list(inputs) + list(outputs):
        if not FILE_NAME.fullmatch(name):
            raise ValueError(f"file name '{name}' may hold only letters, digits, '_', '.' and '-', and no path")
    both = set(inputs) & set(outputs)
    if both:
        raise ValueError(f"{', '.join(sorted(both))} cannot be both an input and an output")


def render_command(command: str, inputs: dict, outputs: dict) -> str:
    """Replace {input:NAME} and {output:NAME} with the files' paths on the submitting side (Pulsar rewrites them)."""

    def path(match):
        kind, name = match.groups()
        files = inputs if kind == "input" else outputs
        if name not in files:
            raise ValueError(f"the command uses {{{kind}:{name}}}, but no {kind} file is called '{name}'")
        return files[name]

    return PLACEHOLDER.sub(path, command)


class _Tool:
    """What Pulsar's stager asks of a Galaxy tool: an id, a version and a directory (an empty one here)."""

    requirements: list = []

    def __init__(self, tool_dir):
        self.id = "pulsar_network_endpoint_check"
        self.version = "1.0"
        self.tool_dir = tool_dir


class PulsarJobs:
    """Send jobs to one Pulsar manager through the broker and collect their final status updates."""

    # acknowledge stays off: in pulsar-app 0.15 and 0.16 the thread that republishes unacknowledged messages dies on
    # its first pass (it iterates MessageQueueUUIDStore, which has no __iter__).
    def __init__(self, url: str, manager: str, ca_file: str | None = None, validate_certs: bool = True,
                 acknowledge: bool = False, on_update=None):
        self._on_update_hook = on_update
        params = {"manager": manager, "amqp_consumer_timeout": 1.0, "amqp_acknowledge": acknowledge,
                  "amqp_publish_retry": True, "amqp_publish_retry_max_retries": 3}
        params.update(pulsar_client_params(url, ca_file, validate_certs))
        self.client_manager = build_client_manager(**params)
        self.statuses = {}
        self.finished = {}
        self._destinations = {}
        self._event = threading.Condition()
        self.client_manager.ensure_has_status_update_callback(self._on_update)
        if acknowledge:
            self.client_manager.ensure_has_ack_consumers()

    def _on_update(self, body):
        job_id = body.get("job_id")
        with self._event:
            self.statuses.setdefault(job_id, []).append((time.monotonic(), body.get("status")))
            if body.get("status") in FINAL_STATES:
                self.finished[job_id] = body
            self._event.notify_all()
        if self._on_update_hook:
            self._on_update_hook(body)

    def submit(self, job_dir: str, command: str, inputs: dict, outputs: list, files_url: str, jobs_directory: str,
               job_id: str | None = None) -> str:
        """Lay out a Galaxy-like job directory, write the inputs and publish the setup message. Returns the job id."""
        job_id = job_id or f"endpoint-check-{uuid.uuid4().hex[:12]}"
        dirs = job_dirs(job_dir, create=True)
        input_paths = {name: os.path.join(dirs["inputs"], name) for name in inputs}
        output_paths = {name: os.path.join(dirs["outputs"], name) for name in outputs}
        for name, content in inputs.items():
            with open(input_paths[name], "w", encoding="utf-8") as handle:
                handle.write(content)
        # Galaxy's own command lines leave the tool's streams in the metadata directory, where Pulsar reads them. A
        # subshell, so that an `exit` in the command still lets Pulsar's job script record the exit code.
        command_line = f"( {render_command(command, input_paths, output_paths)}\n) > ../metadata/tool_stdout 2> ../metadata/tool_stderr"
        self.submit_job_dir(job_dir, command_line, list(input_paths.values()), list(output_paths.values()), files_url,
                            jobs_directory, job_id)
        return job_id

    def submit_job_dir(self, job_dir: str, command_line: str, input_paths: list, output_paths: list, files_url: str,
                       jobs_directory: str, job_id: str, extra_params: dict | None = None) -> None:
        """Publish the setup message of a job laid out in JOB_DIR (working, metadata and tool directories, the inputs
        already written). Pulsar stages the inputs from files_url and sends the outputs back there. extra_params are
        more destination parameters, such as submit_request_cpus for HTCondor."""
        destination = {"default_file_action": "remote_transfer", "files_endpoint": files_url, "jobs_directory": jobs_directory,
                       **(extra_params or {})}
        self._destinations[job_id] = destination
        client = self.client_manager.get_client(destination, job_id)
        dirs = job_dirs(job_dir)
        description = ClientJobDescription(
            command_line=command_line,
            tool=_Tool(dirs["tool"]),
            client_inputs=ClientInputs([ClientInput(p, CLIENT_INPUT_PATH_TYPES.INPUT_PATH) for p in input_paths]),
            client_outputs=ClientOutputs(working_directory=dirs["working"], metadata_directory=dirs["metadata"],
                                         output_files=list(output_paths)),
            working_directory=dirs["working"],
            metadata_directory=dirs["metadata"],
        )
        with self._event:
            self.statuses[job_id] = [(time.monotonic(), "submitted")]
        submit_job(client, description)

    def wait(self, job_ids, timeout: float) -> dict:
        """Final status message per job id; raises JobError(timeout) naming the jobs still unfinished."""
        deadline = time.monotonic() + timeout
        with self._event:
            while not all(j in self.finished for j in job_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    waiting = {j: self.statuses.get(j, [(0, "submitted")])[-1][1] for j in job_ids if j not in self.finished}
                    detail = ", ".join(f"{j} last {s}" for j, s in sorted(waiting.items()))
                    raise JobError("timeout", f"no final status within {timeout:g} s ({detail})")
                self._event.wait(left)
            return {j: self.finished[j] for j in job_ids}

    def timings(self, job_id: str) -> dict:
        """Seconds from submission to the first 'running' update, from there to the final one, and in all."""
        events = self.statuses.get(job_id, [])
        if not events:
            return {}
        start = events[0][0]
        running = next((t for t, s in events if s == "running"), None)
        final = next((t for t, s in events if s in FINAL_STATES), None)
        result = {"statuses": [{"status": s, "after_s": round(t - start, 3)} for t, s in events]}
        if final is not None:
            result["total_s"] = round(final - start, 3)
        if running is not None:
            result["submitted_to_running_s"] = round(running - start, 3)
            if final is not None:
                result["running_to_complete_s"] = round(final - running, 3)
        return result

    def _client(self, job_id: str, jobs_directory: str | None):
        """The job's client; a job this process did not submit (before a restart) needs its jobs_directory."""
        destination = self._destinations.get(job_id) or {"default_file_action": "remote_transfer",
                                                         "jobs_directory": jobs_directory}
        return self.client_manager.get_client(destination, job_id)

    def kill(self, job_id: str, jobs_directory: str | None = None) -> None:
        """Send Pulsar's kill."""
        self._client(job_id, jobs_directory).kill()

    def request_status(self, job_id: str, jobs_directory: str | None = None) -> None:
        """Ask Pulsar to send the job's status message again ("lost" for a job it no longer has)."""
        self._client(job_id, jobs_directory).get_status()

    def close(self) -> None:
        self.client_manager.shutdown(ensure_cleanup=True)


def run_one(url, manager, jobs_directory, command, inputs, outputs, timeout, ca_file=None, validate_certs=True,
            files_bind="127.0.0.1", files_port=0, files_url_host=None, work_root=None) -> dict:
    """Send one job, wait for it, and return its result with the outputs' contents; the job directory is removed."""
    check_file_names(inputs, outputs)
    job_dir = tempfile.mkdtemp(prefix="pulsar-job-", dir=work_root)
    jobs = None
    try:
        with JobFilesServer(job_dir, files_bind, files_port, files_url_host) as files:
            jobs = PulsarJobs(url, manager, ca_file, validate_certs)
            job_id = jobs.submit(job_dir, command, inputs, outputs, files.url, jobs_directory)
            try:
                final = jobs.wait([job_id], timeout)[job_id]
            except JobError:
                jobs.kill(job_id)
                raise
            produced = {}
            for name in outputs:
                path = os.path.join(job_dir, "outputs", name)
                if os.path.isfile(path):
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        produced[name] = handle.read()
            return {
                "job_id": job_id,
                "status": final.get("status"),
                "exit_code": final.get("returncode"),
                "stdout": final.get("stdout") or "",
                "stderr": final.get("stderr") or "",
                "outputs": produced,
                "missing_outputs": sorted(set(outputs) - set(produced)),
                "timings": jobs.timings(job_id),
                "transfers": files.transfers,
                "pulsar_version": final.get("pulsar_version"),
            }
    finally:
        if jobs is not None:
            jobs.close()
        shutil.rmtree(job_dir, ignore_errors=True)
