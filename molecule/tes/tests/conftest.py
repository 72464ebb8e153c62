"""The tes scenario's client side: py-tes against the deployed service, every response body checked against the
published TES 1.1 document, and the lab's own tools (condor_q, systemctl) through podman exec as ground truth.

The controller reaches tes-broker at its lab address: the name is resolved to it here, so TLS checks the service's
certificate (from the lab CA) under the name it was issued for.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import requests
import tes

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "services" / "tes" / "tests"))
from openapi import validate_response  # noqa: E402

SERVICE = "tes-broker"
URL = f"https://{SERVICE}"
NETWORK = "lab-tes"
TOKENS = {"alice": "alice-lab-token-0123456789", "carol": "carol-lab-token-0123456789"}
BOB = ("bob", "bob-lab-password-0123")
IMAGE = "tes-broker:5000/lab/busybox:1"
FINAL = frozenset({"COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED"})


def lab(host: str, *command: str, check: bool = True) -> str:
    """A command in one of the lab's containers, its stdout."""
    done = subprocess.run(["podman", "exec", host, *command], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{host}: {' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


def _address(host: str) -> str:
    return subprocess.run(["podman", "inspect", "-f", f"{{{{(index .NetworkSettings.Networks \"{NETWORK}\").IPAddress}}}}", host],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="session", autouse=True)
def lab_names():
    """tes-broker resolves to its lab address in this process only."""
    addresses = {SERVICE: _address(SERVICE)}
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return original(addresses.get(host, host), *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    os.environ["REQUESTS_CA_BUNDLE"] = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "ca", "ca.crt")
    yield
    socket.getaddrinfo = original


class Recorder:
    """Every response py-tes and the tests receive, to validate each body against the TES document."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def wrap(self, method):
        def call(url, *args, **kwargs):
            kwargs.setdefault("timeout", 30)
            response = method(url, *args, **kwargs)
            self.responses.append(response)
            return response
        return call


@pytest.fixture(scope="session")
def recorder():
    record = Recorder()
    saved = {name: getattr(requests, name) for name in ("get", "post")}
    for name, method in saved.items():
        setattr(requests, name, record.wrap(method))
    yield record
    for name, method in saved.items():
        setattr(requests, name, method)
    checked = 0
    for response in record.responses:
        if response.request.path_url.startswith("/healthz"):  # the service's own, not TES's
            continue
        validate_response(response.request.method, response.request.path_url, response.status_code,
                          response.json())
        checked += 1
    print(f"\n{checked} response bodies valid against TES 1.1")


@pytest.fixture(scope="session")
def alice(recorder) -> tes.HTTPClient:
    return tes.HTTPClient(URL, token=TOKENS["alice"], timeout=30)


@pytest.fixture(scope="session")
def bob(recorder) -> tes.HTTPClient:
    return tes.HTTPClient(URL, user=BOB[0], password=BOB[1], timeout=30)


def task(*executors: dict[str, Any], **fields: Any) -> tes.Task:
    return tes.Task(executors=[tes.Executor(**{"image": IMAGE, **e}) for e in executors], **fields)


def wait(client: tes.HTTPClient, task_id: str, states=FINAL, timeout: float = 300) -> tes.Task:
    deadline = time.monotonic() + timeout
    while True:
        current = client.get_task(task_id, view="FULL")
        if current.state in states:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} still {current.state} after {timeout:g} s")
        time.sleep(1)


def raw(method: str, path: str, user: str = "alice", headers: dict[str, str] | None = None,
        **kwargs: Any) -> requests.Response:
    """A request py-tes does not make (filters, malformed bodies), as one user."""
    return getattr(requests, method)(f"{URL}/ga4gh/tes/v1{path}",
                                     headers={"Authorization": f"Bearer {TOKENS[user]}", **(headers or {})}, **kwargs)


def health() -> dict[str, Any]:
    """The service's /healthz, which answers on tes-broker's loopback only."""
    return json.loads(lab(SERVICE, "python3", "-c", "import urllib.request; print(urllib.request.urlopen("
                          "'http://127.0.0.1:8081/healthz', timeout=10).read().decode())"))


def condor_jobs(task_id: str) -> list[str]:
    """The task's HTCondor jobs in either head's queue, as condor_q on that head shows them."""
    listed = "".join(lab(head, "condor_q", "-allusers", "-af", "ClusterId", "Cmd") for head in ("tes-ep-a", "tes-ep-b"))
    return [line for line in listed.splitlines() if task_id in line]
