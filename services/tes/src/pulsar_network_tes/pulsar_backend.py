"""Tasks as Pulsar jobs on the network's endpoints, sent over AMQP the way Galaxy sends its jobs.

For each task, in a worker thread: the network's routing (routing.order_endpoints, shared with Galaxy's TPV) picks a
healthy endpoint that accepts the task's resources, from the health this service reads off the broker
(network_health.collect, the same reading Galaxy's collector makes); then the plan (plan.py) and the inputs are laid
out in the task's job directory (job_layout.py, staging.py); the task goes to that endpoint's Pulsar as a job whose
command is runner.py, with the task's resources as the job's HTCondor requests. While no endpoint is healthy the task stays
QUEUED here, and nothing is fetched for it.

Progress comes back as Pulsar's status messages on this service's own status_update queue of each endpoint: nothing
polls. The final message arrives after Pulsar has sent the runner's log and outputs to the job files API, so the
task's logs and outputs are complete when its state becomes final. Status messages published while the service was
down wait in that durable queue: on start, reconcile() opens every endpoint that has unfinished tasks, and the waiting
messages bring them to their final state. Tasks not yet sent are sent again; CANCELING ones are killed again.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ansible_collections.esg.pulsar_network.plugins.module_utils import network_health, routing
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_client import PULSAR_IMPORT_ERROR, PulsarJobs, job_dirs

from . import files_api, job_layout, logs, plan, runner
from .config import Endpoint, Settings
from .fetch import Fetcher, Policy
from .job_layout import OUTPUTS
from .models import Resources, State
from .placement import accepting, requested
from .staging import Staging, StagingError
from .store import StoreUnavailable, TaskStore
from .task_log import metadata, task_log, update_log

# Pulsar's job states, as its status messages name them, and the task state each one means.
PULSAR_STATES = {
    "preprocessing": State.INITIALIZING,
    "queued": State.INITIALIZING,
    "running": State.RUNNING,
    "postprocessing": State.RUNNING,
}
# Seconds between tries of a task whose owner has no free download slot (fetch.Fetcher.reserve).
FETCH_RETRY_S = 1.0
# Seconds between tries while the task store cannot be reached (a PostgreSQL server restarting, say), doubling to the cap.
STORE_RETRY_S, STORE_RETRY_MAX_S = 0.5, 10.0


def files_secret(path: str) -> bytes:
    """The job files API's key, made on first start and kept (0600): jobs in flight keep working across restarts."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
        return key


class PulsarBackend:
    def __init__(self, settings: Settings, store: TaskStore, secret: bytes,
                 jobs_factory: Callable[..., Any] = PulsarJobs,
                 health_reader: Callable[..., dict] = network_health.collect) -> None:
        self.settings, self.store, self.secret = settings, store, secret
        self.options = settings.backend
        fetcher = Fetcher(Policy(allow=self.options.fetch_allow, deny=self.options.fetch_deny,
                                 timeout=self.options.fetch_timeout, per_user=self.options.fetch_per_user))
        self.staging = Staging(self.options.work_dir, self.options.storage_roots, self.options.max_input_bytes,
                               self.options.shared_storage, fetcher)
        self._jobs_factory, self._health_reader = jobs_factory, health_reader
        self._endpoints = {e.name: e for e in settings.endpoints}
        self._links: dict[str, Any] = {}
        self._links_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="tes-task")
        self._health: dict[str, Any] = {}
        self._health_ready = threading.Event()
        self._waiting: set[str] = set()
        self._finishing: set[str] = set()
        self._finishing_lock = threading.Lock()
        self._stop = threading.Event()
        self._health_thread = threading.Thread(target=self._watch_health, name="tes-health", daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        if PULSAR_IMPORT_ERROR and self._jobs_factory is PulsarJobs:
            raise RuntimeError("Pulsar's client library cannot be imported: " + PULSAR_IMPORT_ERROR.strip().splitlines()[-1])
        os.makedirs(self.options.work_dir, mode=0o700, exist_ok=True)
        self._health_thread.start()
        self.reconcile()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._links_lock:
            for link in self._links.values():
                link.close()
            self._links.clear()

    def reconcile(self) -> None:
        """After a restart: listen on every endpoint an unfinished task went to, and ask its Pulsar for the job's
        status again (a message taken while the service was stopping may be gone); send again what was not sent."""
        for task in self.store.unfinished():
            endpoint = metadata(task).get("endpoint")
            if task["state"] == State.CANCELING.value:
                self.cancel(task)
            elif endpoint in self._endpoints:
                self._link(endpoint).request_status(task["id"], self._endpoints[endpoint].jobs_directory)
            elif endpoint is None:
                self.submit(task)
            logs.event("task_reconciled", task=task["id"], state=task["state"], endpoint=endpoint)

    # --- the Backend protocol ----------------------------------------------------------------------------------
    def submit(self, task: dict[str, Any]) -> None:
        self._pool.submit(self._guard, task["id"], self._send)

    def cancel(self, task: dict[str, Any]) -> None:
        self._pool.submit(self._guard, task["id"], self._kill)

    def problem(self, task: dict[str, Any], owner: str) -> str | None:
        """Why this task can never run here (a path or URL this service cannot serve, or a path outside the owner's
        storage areas), checked before it is stored."""
        try:
            plan.mount_points(task)
        except plan.PlanError as error:
            return str(error)
        return self.staging.check_urls(task, owner)

    # --- sending -----------------------------------------------------------------------------------------------
    def _guard(self, task_id: str, step: Callable[[str], None], delay: float = STORE_RETRY_S) -> None:
        try:
            step(task_id)
        except StoreUnavailable as error:
            # Nothing can be recorded now, not even a failure: the step is tried again once the store may be back.
            logs.event("store_unavailable", task=task_id, error=str(error), retry_s=delay)
            if not self._stop.is_set():
                timer = threading.Timer(delay, self._pool.submit,
                                        args=(self._guard, task_id, step, min(delay * 2, STORE_RETRY_MAX_S)))
                timer.daemon = True
                timer.start()
        except Exception as error:  # a task must end clearly failed, never stay QUEUED for ever
            logs.log.exception("task_failed", extra={"fields": {"task": task_id}})
            self._final(task_id, State.SYSTEM_ERROR, f"the service failed: {type(error).__name__}: {error}")

    def _send(self, task_id: str) -> None:
        found = self.store.get(task_id)
        if found is None or found[1]["state"] != State.QUEUED.value:
            return
        owner, task = found
        # One of the owner's download slots, taken without waiting; the task's downloads use it. With none free, the
        # task is tried again later, holding no worker meanwhile.
        with self.staging.fetcher.reserve(owner, _downloads(task)) as reserved:
            if not reserved:
                self._retry_later(task, "its owner's downloads are all under way", FETCH_RETRY_S)
                return
            endpoint = self._choose(task)  # first: nothing is fetched for a task that cannot be sent
            if endpoint is None:
                self._retry_later(task)
                return
            self._waiting.discard(task_id)
            try:
                job_inputs = self._lay_out(task, owner)
            except (plan.PlanError, StagingError) as error:
                self._final(task_id, State.SYSTEM_ERROR, str(error))
                return
        job_dir = self.staging.job_dir(task_id)
        outputs_dir = job_dirs(job_dir)["outputs"]
        command_line = job_layout.command_line(job_inputs, outputs_dir)
        files_url = (f"{self.options.public_url}/api/jobs/{task_id}/files"
                     f"?job_key={files_api.job_key(self.secret, task_id)}")
        update_log(self.store, task_id, metadata={"endpoint": endpoint.name})
        self._link(endpoint.name).submit_job_dir(
            job_dir, command_line, job_inputs, [os.path.join(outputs_dir, o) for o in OUTPUTS], files_url,
            endpoint.jobs_directory, task_id, extra_params=job_layout.htcondor_requests(task.get("resources")))
        logs.event("task_sent", task=task_id, endpoint=endpoint.name)

    def _lay_out(self, task: dict[str, Any], owner: str) -> list[str]:
        """The job directory: the runner, its plan and the inputs, written once; the paths Pulsar stages (runner
        first)."""
        inputs_dir = job_dirs(self.staging.job_dir(task["id"]))["inputs"]
        if not job_layout.laid_out(inputs_dir):
            job_dirs(self.staging.job_dir(task["id"]), create=True)
            job_layout.lay_out(inputs_dir, task, owner, self.staging, self.options)
        return job_layout.job_inputs(inputs_dir, task)

    def _choose(self, task: dict[str, Any]) -> Endpoint | None:
        """The best healthy endpoint that accepts the task now, or None."""
        wanted = Resources.model_validate(task.get("resources") or {})
        candidates = [e.name for e in accepting(tuple(self._endpoints.values()), wanted)]
        cores, ram_gb = requested(wanted)
        self._health_ready.wait(timeout=self.options.health_interval * 3)
        ordered = routing.order_endpoints(candidates, self._health, cores=cores, mem_gb=ram_gb)
        if not ordered:
            return None
        routing.record_routed(ordered[0], cores, ram_gb, 0)
        return self._endpoints[ordered[0]]

    def _retry_later(self, task: dict[str, Any], reason: str = "no healthy endpoint accepts it now",
                     delay: float | None = None) -> None:
        """The task cannot go now (no endpoint is healthy for it, by default): it stays QUEUED here and is tried again
        after the next health read, or the delay, without holding a worker."""
        if task["id"] not in self._waiting:
            self._waiting.add(task["id"])
            logs.event("task_waiting", task=task["id"], reason=reason)
        if not self._stop.is_set():
            timer = threading.Timer(self.options.health_interval if delay is None else delay, self._submit_again,
                                    args=(task,))
            timer.daemon = True
            timer.start()

    def _submit_again(self, task: dict[str, Any]) -> None:
        if not self._stop.is_set():  # a timer may fire after stop(), when the pool takes no more work
            self.submit(task)

    # --- status messages ---------------------------------------------------------------------------------------
    def _link(self, name: str) -> Any:
        """The AMQP link to one endpoint, opened once: its client manager also consumes the status messages."""
        with self._links_lock:
            if name not in self._links:
                endpoint = self._endpoints[name]
                self._links[name] = self._jobs_factory(endpoint.amqp_url, endpoint.manager, self.options.ca_file,
                                                       on_update=lambda body, n=name: self._on_update(n, body))
            return self._links[name]

    def _on_update(self, endpoint: str, body: dict[str, Any]) -> None:
        """A status message. Pulsar's client acknowledges it once this returns, whatever happened, so while the store
        cannot be reached this waits and tries again rather than drop it (the messages behind it wait in the broker).
        A service stopping meanwhile gives up; reconcile() asks for the job's status again when it starts."""
        delay = STORE_RETRY_S
        while True:
            try:
                self._take_update(endpoint, body)
                return
            except StoreUnavailable as error:
                logs.event("store_unavailable", task=body.get("job_id"), error=str(error), retry_s=delay)
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, STORE_RETRY_MAX_S)

    def _take_update(self, endpoint: str, body: dict[str, Any]) -> None:
        task_id, status = body.get("job_id"), body.get("status")
        found = self.store.get(task_id) if task_id else None
        if found is None:
            logs.event("status_for_unknown_task", endpoint=endpoint, job=task_id, status=status)
            return
        if metadata(found[1]).get("endpoint") != endpoint:
            # Only the task's own endpoint speaks for it: another endpoint's link (or its credentials) cannot end it.
            logs.event("status_from_another_endpoint", task=task_id, endpoint=endpoint,
                       task_endpoint=metadata(found[1]).get("endpoint"), status=status)
            return
        logs.event("task_status", task=task_id, endpoint=endpoint, pulsar_status=status)
        canceling = found[1]["state"] == State.CANCELING.value
        if status in PULSAR_STATES:
            if not canceling:
                self.store.update(task_id, PULSAR_STATES[status])
        elif canceling and status in ("complete", "cancelled", "failed", "lost"):
            # After Pulsar's kill the job ends as "complete" (nothing left to collect) or "cancelled".
            self._final(task_id, State.CANCELED, f"canceled: the job ended at the endpoint ({status})")
        elif status == "complete" or (status == "lost" and self._outputs_came_back(task_id)):
            # "lost" after the outputs came back: Pulsar answered a status request for a job it has since cleaned up.
            self._pool.submit(self._guard, task_id, lambda t: self._finish(t, body))
        elif status == "cancelled":
            self._final(task_id, State.CANCELED, "canceled: Pulsar killed the job")
        elif status in ("failed", "lost") and task_id not in self._finishing:
            reason = (body.get("stderr") or body.get("job_stderr") or "").strip().splitlines()[-1:] or ["no detail"]
            self._final(task_id, State.SYSTEM_ERROR, f"the endpoint's Pulsar reports the job {status}: {reason[0]}")

    def _outputs_came_back(self, task_id: str) -> bool:
        """Whether Pulsar has uploaded the runner's log (written whole, by rename, after the outputs)."""
        return os.path.isfile(os.path.join(job_dirs(self.staging.job_dir(task_id))["outputs"], OUTPUTS[1]))

    def _finish(self, task_id: str, body: dict[str, Any]) -> None:
        """Once per task, however many final messages arrive (a status request answers with one more)."""
        with self._finishing_lock:
            if task_id in self._finishing:
                return
            self._finishing.add(task_id)
        try:
            self._finish_once(task_id, body)
        finally:
            with self._finishing_lock:
                self._finishing.discard(task_id)

    def _finish_once(self, task_id: str, body: dict[str, Any]) -> None:
        found = self.store.get(task_id)
        if found is None or State(found[1]["state"]).final:
            return
        (owner, task), outputs_dir = found, job_dirs(self.staging.job_dir(task_id))["outputs"]
        try:
            with open(os.path.join(outputs_dir, OUTPUTS[1]), encoding="utf-8") as handle:
                result = json.load(handle)
        except (OSError, ValueError) as error:
            detail = (body.get("stderr") or "").strip().splitlines()[-1:] or [str(error)]
            self._final(task_id, State.SYSTEM_ERROR, f"the runner left no log on the endpoint: {detail[0]}")
            return
        system_logs = list(result.get("system_logs") or [])
        state = State(result.get("outcome", "SYSTEM_ERROR"))
        delivered: list[dict[str, str]] = []
        if state is State.COMPLETE or result.get("outputs"):
            try:
                delivered = self.staging.deliver_outputs(task, owner, os.path.join(outputs_dir, OUTPUTS[0]),
                                                         result.get("outputs") or [])
            except (StagingError, OSError) as error:
                state, system_logs = State.SYSTEM_ERROR, system_logs + [str(error)]
        executor_logs = [{k: v for k, v in entry.items() if k in ("start_time", "end_time", "exit_code", "stdout",
                                                                  "stderr")} for entry in result.get("executors") or []]
        update_log(self.store, task_id, logs=executor_logs, outputs=delivered, start_time=result.get("start_time"),
                   end_time=result.get("end_time"), system_logs=system_logs)
        self.staging.remove(task_id)  # before the final state, which tells clients the task is over
        self.store.update(task_id, state)
        logs.event("task_finished", task=task_id, state=state.value, outputs=len(delivered))

    # --- cancel ------------------------------------------------------------------------------------------------
    def _kill(self, task_id: str) -> None:
        found = self.store.get(task_id)
        if found is None or State(found[1]["state"]).final:
            return
        name = metadata(found[1]).get("endpoint")
        if name not in self._endpoints:
            self._final(task_id, State.CANCELED, "canceled before it was sent to an endpoint")
            return
        self._link(name).kill(task_id, self._endpoints[name].jobs_directory)
        logs.event("task_kill_sent", task=task_id, endpoint=name)

    # --- helpers -----------------------------------------------------------------------------------------------
    def _final(self, task_id: str, state: State, reason: str) -> None:
        found = self.store.get(task_id)
        if found is None or State(found[1]["state"]).final:
            return
        update_log(self.store, task_id, system_logs=list(task_log(found[1]).get("system_logs") or []) + [reason],
                   end_time=runner.now())
        self.staging.remove(task_id)
        self.store.update(task_id, state)
        logs.event("task_finished", task=task_id, state=state.value, reason=reason)

    def _watch_health(self) -> None:
        endpoints = [{"name": e.name, "amqp_url": e.amqp_url, "manager": e.manager} for e in self._endpoints.values()]
        while not self._stop.is_set():
            try:
                self._health = self._health_reader(
                    endpoints, self._health, ca_file=self.options.ca_file,
                    on_unreachable=lambda name, reason: logs.event("endpoint_unreachable", endpoint=name, reason=reason))
            except Exception:  # a failed reading leaves the last one, which ages out by itself
                logs.log.exception("health_failed")
            self._health_ready.set()
            self._stop.wait(self.options.health_interval)

    def health(self) -> dict[str, Any]:
        """Each endpoint's verdict, for /healthz."""
        return {name: entry.get("verdict") for name, entry in (self._health.get("endpoints") or {}).items()}


def _downloads(task: dict[str, Any]) -> bool:
    """Whether laying the task out downloads an input."""
    return any(str(i.get("url", "")).lower().startswith(("http://", "https://")) for i in task.get("inputs") or [])
