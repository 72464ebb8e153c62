"""The Pulsar backend with Pulsar's side stood in for (FakeJobs runs the job's runner here and answers with Pulsar's
status messages) and the stand-in runtime: routing, staging, states, cancel and a restart. Over real AMQP, Pulsar and
HTCondor this runs in the tes scenario."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shlex
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pulsar_network_tes import files_api
from pulsar_network_tes.config import parse
from pulsar_network_tes.models import State
from pulsar_network_tes.pulsar_backend import PulsarBackend
from pulsar_network_tes.store import StoreUnavailable, TaskStore


class FakeJobs:
    """PulsarJobs' interface: records what is sent; run() and say() play the endpoint's Pulsar."""

    opened: list[FakeJobs] = []

    def __init__(self, url: str, manager: str, ca_file: str | None = None, on_update=None) -> None:
        self.url, self.manager, self.on_update = url, manager, on_update
        self.sent: dict[str, dict[str, Any]] = {}
        self.killed: list[str] = []
        self.status_requests: list[str] = []
        FakeJobs.opened.append(self)

    def submit_job_dir(self, job_dir, command_line, input_paths, output_paths, files_url, jobs_directory, job_id,
                       extra_params=None):
        self.sent[job_id] = {"job_dir": job_dir, "command_line": command_line, "inputs": input_paths,
                             "files_url": files_url, "jobs_directory": jobs_directory, "params": extra_params}

    def kill(self, job_id, jobs_directory=None):
        self.killed.append(job_id)

    def request_status(self, job_id, jobs_directory=None):
        self.status_requests.append(job_id)

    def close(self):
        pass

    def run(self, job_id: str, tmp: pathlib.Path) -> None:
        """What Pulsar does: stage the inputs into a working directory, run the command there, send outputs back."""
        job = self.sent[job_id]
        working = tmp / f"endpoint-{job_id}"
        (working / "working").mkdir(parents=True)
        (working / "metadata").mkdir()
        command = job["command_line"].replace(job["job_dir"], str(working))
        for path in job["inputs"]:
            staged = working / "inputs" / os.path.basename(path)
            staged.parent.mkdir(exist_ok=True)
            staged.write_bytes(pathlib.Path(path).read_bytes())
        (working / "outputs").mkdir()
        subprocess.run(command.replace("python3 ", shlex.quote(sys.executable) + " ", 1), shell=True,
                       cwd=working / "working", check=True)
        for name in ("tes_outputs.tar", "tes_log.json"):
            target = pathlib.Path(job["job_dir"]) / "outputs" / name
            target.write_bytes((working / "outputs" / name).read_bytes())

    def say(self, job_id: str, status: str, **body: Any) -> None:
        self.on_update({"job_id": job_id, "status": status, **body})


def health(verdicts: dict[str, str]) -> dict[str, Any]:
    free = {"cpus": 4, "memory_mb": 8192}
    return {"time": time.time(), "endpoints": {name: {"verdict": v, "free": free, "total": free, "report": {}}
                                               for name, v in verdicts.items()}}


@pytest.fixture
def lab(tmp_path, monkeypatch, fake_podman):
    """A backend with two endpoints; lab['verdicts'] is what the broker says of them."""
    monkeypatch.setenv("PATH", f"{fake_podman.parent}:{os.environ['PATH']}")
    storage = tmp_path / "storage"
    (storage / "alice").mkdir(parents=True)  # the tasks' owner's area
    FakeJobs.opened = []
    state: dict[str, Any] = {"verdicts": {"site_a": "healthy", "site_b": "healthy"}, "tmp": tmp_path,
                             "storage": storage}
    settings = parse({
        "store": str(tmp_path / "tasks.sqlite"),
        "endpoints": [
            {"name": "site_a", "cores": 4, "mem": 8, "amqp_url": "pyamqp://tes:pw@broker:5671//pulsar/site_a/tes?ssl=1",
             "jobs_directory": "/srv/pulsar/staging/tes"},
            {"name": "site_b", "cores": 4, "mem": 8, "amqp_url": "pyamqp://tes:pw@broker:5671//pulsar/site_b/tes?ssl=1",
             "jobs_directory": "/srv/b/tes"}],
        "backend": {"public_url": "https://tes.lab/", "work_dir": str(tmp_path / "jobs"),
                    "storage_roots": [str(storage)], "health_interval": 0.05, "workers": 2}})

    def make() -> PulsarBackend:
        backend = PulsarBackend(settings, state["store"], b"k" * 32, jobs_factory=FakeJobs,
                                health_reader=lambda *a, **k: health(state["verdicts"]))
        backend.start()
        state.setdefault("backends", []).append(backend)
        return backend

    state["store"] = TaskStore(settings.store)
    state["make"] = make
    yield state
    for backend in state.get("backends", []):
        backend.stop()
    state["store"].close()


def wait_for(store: TaskStore, task_id: str, states: set[str], timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = store.get(task_id)[1]
        if document["state"] in states:
            return document
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} is {store.get(task_id)[1]['state']}, not one of {states}")


def wait_sent(task_id: str, timeout: float = 10.0) -> FakeJobs:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for link in FakeJobs.opened:
            if task_id in link.sent:
                return link
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} was not sent")


def submit(lab, task: dict[str, Any]) -> str:
    stored = lab["store"].create("alice", task)
    lab["backends"][-1].submit(stored)
    return stored["id"]


def test_a_task_runs_and_its_outputs_logs_and_requests_come_back(lab):
    lab["make"]()
    task_id = submit(lab, {
        "inputs": [{"path": "/data/in.txt", "content": "abc\n", "type": "FILE"}],
        "outputs": [{"path": "/data/out.txt", "url": f"file://{lab['storage']}/alice/result/out.txt", "type": "FILE"}],
        "resources": {"cpu_cores": 1.5, "ram_gb": 0.5, "disk_gb": 1},
        "executors": [{"image": "ok/busybox", "command": ["sh", "-c", "rev /data/in.txt > /data/out.txt; echo done"]}]})
    link = wait_sent(task_id)
    job = link.sent[task_id]
    assert job["params"] == {"submit_request_cpus": "2", "submit_request_memory": "512",
                             "submit_request_disk": "1048576"}
    assert job["files_url"] == f"https://tes.lab/api/jobs/{task_id}/files?job_key={files_api.job_key(b'k' * 32, task_id)}"
    link.say(task_id, "running")
    assert wait_for(lab["store"], task_id, {"RUNNING"})["state"] == "RUNNING"
    link.run(task_id, lab["tmp"])
    link.say(task_id, "complete")
    document = wait_for(lab["store"], task_id, {"COMPLETE", "SYSTEM_ERROR", "EXECUTOR_ERROR"})
    assert document["state"] == "COMPLETE", document["logs"]
    assert (lab["storage"] / "alice" / "result" / "out.txt").read_text() == "cba\n"
    task_log = document["logs"][0]
    assert task_log["outputs"] == [{"url": f"file://{lab['storage']}/alice/result/out.txt", "path": "/data/out.txt",
                                    "size_bytes": "4"}]
    assert [(e["exit_code"], e["stdout"]) for e in task_log["logs"]] == [(0, "done\n")]
    assert task_log["metadata"]["endpoint"] in ("site_a", "site_b")
    assert task_log["start_time"] and task_log["end_time"]
    assert not os.path.exists(os.path.join(lab["tmp"], "jobs", task_id)), "the job directory is removed at the end"


def test_routing_leaves_out_an_endpoint_that_is_not_healthy_and_waits_while_none_is(lab):
    lab["verdicts"] = {"site_a": "stalled", "site_b": "healthy"}
    lab["make"]()
    first = submit(lab, {"executors": [{"image": "ok/a", "command": ["true"]}]})
    assert wait_sent(first).url.endswith("/pulsar/site_b/tes?ssl=1")
    lab["verdicts"] = {"site_a": "stalled", "site_b": "pool_down"}
    time.sleep(0.2)
    waiting = submit(lab, {"executors": [{"image": "ok/a", "command": ["true"]}]})
    time.sleep(0.5)
    assert lab["store"].get(waiting)[1]["state"] == "QUEUED"
    assert all(waiting not in link.sent for link in FakeJobs.opened)
    lab["verdicts"] = {"site_a": "healthy", "site_b": "pool_down"}
    assert wait_sent(waiting).url.endswith("/pulsar/site_a/tes?ssl=1")


def test_nothing_is_fetched_while_no_endpoint_is_healthy(lab):
    """Inputs are gathered once an endpoint is chosen: a task that waits downloads nothing meanwhile (issue #26)."""
    lab["verdicts"] = {"site_a": "stalled", "site_b": "pool_down"}
    backend = lab["make"]()
    gathered: list[str] = []
    gather = backend.staging.gather_inputs
    backend.staging.gather_inputs = lambda task, *args: gathered.append(task["id"]) or gather(task, *args)
    task_id = submit(lab, {"inputs": [{"path": "/d/x", "url": "https://data.example/x", "type": "FILE"}],
                           "executors": [{"image": "ok/a", "command": ["true"]}]})
    time.sleep(0.5)
    assert lab["store"].get(task_id)[1]["state"] == "QUEUED"
    assert gathered == []


def test_a_task_whose_owner_has_no_free_download_slot_waits_without_holding_a_worker(lab):
    """Other users' tasks go on meanwhile: the pool's workers are not left waiting for one user's downloads."""
    backend = lab["make"]()
    full = {"alice"}
    reserve = backend.staging.fetcher.reserve
    backend.staging.fetcher.reserve = lambda owner, needed=True: (
        contextlib.nullcontext(False) if owner in full else reserve(owner, needed))
    echo = [{"image": "ok/a", "command": ["true"]}]
    waiting = [submit(lab, {"inputs": [{"path": "/d/x", "url": f"https://data.example/{i}", "type": "FILE"}],
                            "executors": echo}) for i in range(3)]
    bobs = lab["store"].create("bob", {"inputs": [{"path": "/d/x", "url": "https://data.example/b", "type": "FILE"}],
                                       "executors": echo})
    gathered: list[str] = []
    backend.staging.gather_inputs = lambda task, owner: gathered.append(owner) or []
    backend.submit(bobs)
    wait_sent(bobs["id"], timeout=3)
    assert gathered == ["bob"]
    assert all(lab["store"].get(t)[1]["state"] == "QUEUED" for t in waiting)
    full.clear()
    for task_id in waiting:
        wait_sent(task_id, timeout=5)


def test_cancel_sends_pulsars_kill_and_the_task_ends_canceled(lab):
    backend = lab["make"]()
    task_id = submit(lab, {"executors": [{"image": "ok/a", "command": ["sleep", "60"]}]})
    link = wait_sent(task_id)
    link.say(task_id, "running")
    wait_for(lab["store"], task_id, {"RUNNING"})
    backend.cancel(lab["store"].update(task_id, State.CANCELING))
    deadline = time.monotonic() + 5
    while task_id not in link.killed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert link.killed == [task_id]
    link.say(task_id, "running")  # a late message does not undo the cancel
    assert lab["store"].get(task_id)[1]["state"] == "CANCELING"
    link.say(task_id, "complete")  # what Pulsar says once the killed job is gone: nothing to collect
    document = wait_for(lab["store"], task_id, {"CANCELED", "SYSTEM_ERROR"})
    assert document["state"] == "CANCELED"
    assert document["logs"][0]["system_logs"] == ["canceled: the job ended at the endpoint (complete)"]


def test_pulsar_failures_and_executor_failures_are_told_apart(lab):
    lab["make"]()
    failing = submit(lab, {"executors": [{"image": "ok/a", "command": ["sh", "-c", "exit 7"]}]})
    link = wait_sent(failing)
    link.run(failing, lab["tmp"])
    link.say(failing, "complete")
    document = wait_for(lab["store"], failing, {"EXECUTOR_ERROR", "COMPLETE", "SYSTEM_ERROR"})
    assert document["state"] == "EXECUTOR_ERROR"
    assert document["logs"][0]["logs"][0]["exit_code"] == 7
    lost = submit(lab, {"executors": [{"image": "ok/a", "command": ["true"]}]})
    wait_sent(lost).say(lost, "failed", stderr="Traceback ...\nOSError: staging failed")
    document = wait_for(lab["store"], lost, {"SYSTEM_ERROR"})
    assert document["logs"][0]["system_logs"] == ["the endpoint's Pulsar reports the job failed: OSError: staging failed"]


def test_an_input_that_cannot_be_fetched_is_a_system_error_naming_it(lab):
    lab["make"]()
    task_id = submit(lab, {"inputs": [{"path": "/d/x", "url": f"file://{lab['storage']}/alice/absent", "type": "FILE"}],
                           "executors": [{"image": "ok/a", "command": ["true"]}]})
    document = wait_for(lab["store"], task_id, {"SYSTEM_ERROR"})
    assert document["logs"][0]["system_logs"] == [f"inputs[0].url: {lab['storage']}/alice/absent is not a file"]


def test_paths_and_urls_the_service_cannot_serve_are_refused_before_storing(lab):
    backend = lab["make"]()
    echo = [{"image": "ok/a", "command": ["true"]}]
    assert backend.problem({"inputs": [{"path": "/d/x", "url": "file:///etc/shadow"}], "executors": echo}, "alice") == (
        f"inputs[0].url: /etc/shadow is outside your storage areas ({lab['storage']}/alice)")
    assert backend.problem({"outputs": [{"path": "/d/x", "url": "s3://bucket/x"}], "executors": echo}, "alice") == (
        "outputs[0].url: s3 scheme; this service takes file, https")
    assert backend.problem({"inputs": [{"path": "/x", "content": "a"}], "executors": echo}, "alice") == (
        "inputs[0].path: /x is at the container's root; put it in a directory")


def running_then_stopped(lab, command: str) -> tuple[str, FakeJobs]:
    """A task RUNNING at an endpoint, and the service stopped under it: the task's id and its endpoint's link."""
    first = lab["make"]()
    task_id = submit(lab, {"executors": [{"image": "ok/a", "command": ["sh", "-c", command]}]})
    link = wait_sent(task_id)
    link.say(task_id, "running")
    wait_for(lab["store"], task_id, {"RUNNING"})
    first.stop()
    return task_id, link


def test_after_a_restart_status_messages_bring_running_tasks_to_their_end(lab):
    task_id, link = running_then_stopped(lab, "echo survived")
    link.run(task_id, lab["tmp"])  # the job goes on at the endpoint while the service is down
    FakeJobs.opened = []
    lab["make"]()  # reconcile() opens the endpoint's link again; the waiting message arrives on it
    reopened = [j for j in FakeJobs.opened if j.url == link.url]
    assert len(reopened) == 1
    assert reopened[0].status_requests == [task_id]
    reopened[0].say(task_id, "complete")
    document = wait_for(lab["store"], task_id, {"COMPLETE", "SYSTEM_ERROR", "EXECUTOR_ERROR"})
    assert document["state"] == "COMPLETE"
    assert document["logs"][0]["logs"][0]["stdout"] == "survived\n"


@pytest.mark.parametrize("outputs_came_back, ends", [(True, "COMPLETE"), (False, "SYSTEM_ERROR")])
def test_a_final_message_lost_at_a_restart_is_asked_for_again(lab, outputs_came_back, ends):
    """The job ended while the service stopped and its final message went with it: the restarted service asks
    Pulsar for the status, and Pulsar, which has cleaned the job up, says "lost". Outputs that came back finish the
    task; without them it is clearly failed, never left RUNNING."""
    task_id, link = running_then_stopped(lab, "echo done")
    if outputs_came_back:
        link.run(task_id, lab["tmp"])
    FakeJobs.opened = []
    lab["make"]()
    again = next(j for j in FakeJobs.opened if j.url == link.url)
    assert again.status_requests == [task_id]
    again.say(task_id, "lost")
    document = wait_for(lab["store"], task_id, {"COMPLETE", "SYSTEM_ERROR", "EXECUTOR_ERROR"})
    assert document["state"] == ends, document["logs"]
    if outputs_came_back:
        assert document["logs"][0]["logs"][0]["stdout"] == "done\n"
    else:
        assert "reports the job lost" in document["logs"][0]["system_logs"][-1]


class FlakyStore(TaskStore):
    """A store whose database can be taken away, as a PostgreSQL server restarting is."""

    down = False

    def get(self, task_id):
        if self.down:
            raise StoreUnavailable("store: PostgreSQL: connection refused")
        return super().get(task_id)

    def update(self, task_id, state=None, **fields):
        if self.down:
            raise StoreUnavailable("store: PostgreSQL: connection refused")
        return super().update(task_id, state, **fields)


def test_a_status_message_waits_while_the_store_is_down(lab):
    """Pulsar's client acknowledges a message when the callback returns: it must not return before the message is
    stored, and the task must not be failed for the store's outage."""
    lab["store"].close()
    lab["store"] = store = FlakyStore(str(lab["tmp"] / "tasks.sqlite"))
    lab["make"]()
    task_id = submit(lab, {"executors": [{"image": "ok/a", "command": ["sh", "-c", "echo kept"]}]})
    link = wait_sent(task_id)
    link.run(task_id, lab["tmp"])
    store.down = True
    delivery = threading.Thread(target=link.say, args=(task_id, "complete"))
    delivery.start()
    time.sleep(1.0)
    assert delivery.is_alive(), "the message was let go while the store was down"
    store.down = False
    delivery.join(timeout=15)
    assert not delivery.is_alive()
    document = wait_for(store, task_id, {"COMPLETE", "SYSTEM_ERROR", "EXECUTOR_ERROR"}, timeout=20)
    assert document["state"] == "COMPLETE", document["logs"]
    assert document["logs"][0]["logs"][0]["stdout"] == "kept\n"


def test_the_job_files_api_serves_only_the_tasks_own_directory_with_its_key(tmp_path):
    job_dir = tmp_path / "t1"
    (job_dir / "inputs").mkdir(parents=True)
    (job_dir / "inputs" / "a").write_text("input")
    (tmp_path / "secret").write_text("not yours")
    app = FastAPI()
    app.include_router(files_api.router(b"s" * 32, lambda task_id: str(tmp_path / task_id)))
    client = TestClient(app)
    key = files_api.job_key(b"s" * 32, "t1")
    url = "/api/jobs/t1/files"
    assert client.get(url, params={"job_key": key, "path": str(job_dir / "inputs" / "a")}).text == "input"
    assert client.get(url, params={"job_key": "0" * 64, "path": str(job_dir / "inputs" / "a")}).status_code == 403
    assert client.get(url, params={"job_key": key, "path": str(job_dir / ".." / "secret")}).status_code == 403
    other = files_api.job_key(b"s" * 32, "t2")
    assert client.get("/api/jobs/t2/files", params={"job_key": other, "path": str(job_dir / "inputs" / "a")}).status_code == 403
    posted = client.post(url, params={"job_key": key, "path": str(job_dir / "outputs" / "o.tar")},
                         files={"file": ("o.tar", b"tarball")})
    assert posted.status_code == 200
    assert (job_dir / "outputs" / "o.tar").read_bytes() == b"tarball"


def test_a_status_message_from_another_endpoint_changes_nothing(lab):
    """Each endpoint's link carries only its own jobs' messages: site_b's Pulsar (or whoever holds its credentials)
    cannot cancel, fail or finish a task that went to site_a."""
    lab["verdicts"] = {"site_a": "healthy", "site_b": "stalled"}
    backend = lab["make"]()
    task_id = submit(lab, {"executors": [{"image": "ok/a", "command": ["sleep", "60"]}]})
    link_a = wait_sent(task_id)
    link_a.say(task_id, "running")
    wait_for(lab["store"], task_id, {"RUNNING"})
    link_b = backend._link("site_b")
    for status in ("cancelled", "failed", "lost", "complete", "queued"):
        link_b.say(task_id, status)
    time.sleep(0.3)
    assert lab["store"].get(task_id)[1]["state"] == "RUNNING"
    link_a.say(task_id, "cancelled")
    assert wait_for(lab["store"], task_id, {"CANCELED"})["state"] == "CANCELED"
