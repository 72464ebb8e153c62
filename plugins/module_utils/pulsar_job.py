# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Jobs sent to a Pulsar endpoint through its broker, the way Galaxy sends them, with Pulsar's own client library.

Galaxy hands Pulsar a job whose inputs Pulsar downloads from, and whose outputs it uploads to, Galaxy's job files
API (the remote_transfer staging action). JobFilesServer is that API in miniature, serving one job directory on the
host that submits the job. PulsarJobs submits jobs and collects their status updates.

This file imports neither Ansible nor the collection's other module_utils, so the benchmark scripts can load it on
its own inside Pulsar's virtualenv.
"""

from __future__ import annotations

import email.parser
import email.policy
import http.server
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import kombu_connection, pulsar_client_params

# kombu alone is enough for queue_figures: Galaxy's health collector uses it in Galaxy's virtualenv, whose
# pulsar-galaxy-lib (0.15) has no staging.inputs.
try:
    import kombu
except ImportError:
    kombu = None
try:
    from pulsar.client.manager import build_client_manager
    from pulsar.client.staging.inputs import CLIENT_INPUT_PATH_TYPES, ClientInput, ClientInputs
    from pulsar.client.staging.models import ClientJobDescription, ClientOutputs
    from pulsar.client.staging.up import submit_job
except ImportError:
    PULSAR_IMPORT_ERROR = traceback.format_exc()
else:
    PULSAR_IMPORT_ERROR = None if kombu else "ImportError: No module named 'kombu'"

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


class JobError(Exception):
    """A job that could not be sent or did not finish well; kind is unreachable, refused, no_consumer, failed or timeout."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


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


class _FilesHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PulsarJobFiles/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def _path(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        requested = os.path.realpath(query.get("path", [""])[0])
        root = self.server.root
        if not requested.startswith(root + os.sep):
            self._reply(403, b"path outside the job directory\n")
            return None
        return requested

    def _reply(self, code, body=b"", length=None):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        path = self._path()
        if path is None:
            return
        if not os.path.isfile(path):
            self._reply(404)
            return
        self._reply(200, length=os.path.getsize(path))

    def do_GET(self):  # noqa: N802
        path = self._path()
        if path is None:
            return
        if not os.path.isfile(path):
            self._reply(404, b"no such file\n")
            return
        with open(path, "rb") as handle:
            data = handle.read()
        self.server.record("GET", path, len(data))
        self._reply(200, data)

    def do_POST(self):  # noqa: N802
        path = self._path()
        if path is None:
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        parts = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if not parts:
            self._reply(400, b"expected a multipart form with a 'file' field\n")
            return
        data = parts[0].get_payload(decode=True) or b""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        self.server.record("POST", path, len(data))
        self._reply(200, b"{}")


class JobFilesServer:
    """Galaxy's job files API for one directory: GET/HEAD ?path= downloads, POST ?path= (multipart 'file') uploads."""

    def __init__(self, root: str, bind_address: str = "127.0.0.1", port: int = 0, url_host: str | None = None):
        self.root = os.path.realpath(root)
        self._server = http.server.ThreadingHTTPServer((bind_address, port), _FilesHandler)
        self._server.daemon_threads = True
        self._server.root = self.root
        self._server.record = self._record
        self.transfers = []
        self._lock = threading.Lock()
        host = url_host or bind_address
        self.url = f"http://{host}:{self._server.server_address[1]}/api/jobs/files"
        self._thread = threading.Thread(target=self._server.serve_forever, name="job-files", daemon=True)

    def _record(self, method, path, size):
        with self._lock:
            self.transfers.append({"method": method, "path": os.path.relpath(path, self.root), "bytes": size})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def queue_figures(url: str, queues, ca_file: str | None = None, validate_certs: bool = True, timeout: float = 10.0) -> dict:
    """Ready messages and consumers of each queue, by passive declares; a missing queue has exists=False."""
    figures = {}
    try:
        with broker_connection(url, ca_file, validate_certs, timeout) as connection:
            connection.ensure_connection(max_retries=1)
            for queue in queues:
                channel = connection.channel()
                try:
                    _name, ready, consumers = channel.queue_declare(queue=queue, passive=True)
                    figures[queue] = {"exists": True, "messages_ready": ready, "consumers": consumers}
                except connection.channel_errors:
                    figures[queue] = {"exists": False, "messages_ready": 0, "consumers": 0}
                finally:
                    try:
                        channel.close()
                    except Exception:  # the broker already closed it after a 404
                        pass
    except Exception as err:  # kombu and py-amqp raise many kinds; the first line says what happened
        raise broker_failure(err) from None
    return figures


def broker_connection(url: str, ca_file: str | None = None, validate_certs: bool = True, timeout: float = 10.0):
    """A kombu connection to URL's broker, its name checked over TLS (amqp.kombu_connection)."""
    kombu_url, ssl_options = kombu_connection(url, ca_file, validate_certs)
    return kombu.Connection(kombu_url, ssl=ssl_options or False, connect_timeout=timeout)


def broker_failure(err: Exception) -> JobError:
    """A kombu or py-amqp failure as a JobError: refused (credentials, vhost, permissions) or unreachable."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    kind = "refused" if re.search(r"ACCESS_REFUSED|NOT_ALLOWED|access to vhost|Login was refused", text, re.I) else "unreachable"
    return JobError(kind, f"broker {kind}: {text}")


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
