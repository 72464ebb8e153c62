from __future__ import annotations

import base64
import hashlib
import pathlib
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from passlib.hash import pbkdf2_sha256

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "src"))
# The collection's shared code (routing, AMQP, Pulsar's client), which the role installs beside the service.
sys.path.insert(0, str(pathlib.Path(__file__).parents[3] / "tests"))
from pg_server import Server  # noqa: E402
from src_collections import link_checkout  # noqa: E402

link_checkout()

from pulsar_network_tes.app import create_app  # noqa: E402
from pulsar_network_tes.config import parse  # noqa: E402
from pulsar_network_tes.store import TaskStore  # noqa: E402

TOKENS = {"alice": "alice-token-0123456789", "admin": "admin-token-0123456789"}
PASSWORDS = {"bob": "bob-password"}


class RecordingBackend:
    """Takes tasks and cancels as the network backend would, and only records them (the HTTP layer under test)."""

    def __init__(self) -> None:
        self.submitted: list[dict[str, Any]] = []
        self.canceled: list[dict[str, Any]] = []

    def problem(self, task: dict[str, Any], owner: str) -> str | None:
        return None

    def submit(self, task: dict[str, Any]) -> None:
        self.submitted.append(task)

    def cancel(self, task: dict[str, Any]) -> None:
        self.canceled.append(task)


def settings_data(tmp_path: pathlib.Path, **overrides: Any) -> dict[str, Any]:
    data = {
        "store": str(tmp_path / "tasks.sqlite"),
        "service": {"id": "test.pulsar-network.tes"},
        "auth": {"users": [
            {"name": "alice", "token_sha256": hashlib.sha256(TOKENS["alice"].encode()).hexdigest()},
            {"name": "admin", "token_sha256": hashlib.sha256(TOKENS["admin"].encode()).hexdigest(), "admin": True},
            # As Ansible's password_hash('pbkdf2_sha256') writes it (passlib).
            {"name": "bob", "password_hash": pbkdf2_sha256.hash(PASSWORDS["bob"])},
        ]},
        "backend_parameters": ["request_walltime"],
        "endpoints": [{"name": "site_a", "cores": 4, "mem": 8}, {"name": "site_b", "cores": 16, "mem": 4}],
    }
    data.update(overrides)
    return data


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[user]}"}


def basic(user: str, password: str | None = None) -> dict[str, str]:
    credentials = base64.b64encode(f"{user}:{password or PASSWORDS[user]}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


@pytest.fixture
def fake_podman(tmp_path: pathlib.Path) -> pathlib.Path:
    """bin/podman: the stand-in runtime (fakes/fake_runtime.py) under podman's name, run by this Python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "podman"
    fake = pathlib.Path(__file__).parent / "fakes" / "fake_runtime.py"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$@"\n')
    script.chmod(0o755)
    return script


@pytest.fixture
def backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture(scope="session")
def postgresql() -> Server:
    """A real PostgreSQL server (pg_server.py) for the whole run."""
    server = Server()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """Where a store lives: a SQLite file, then a fresh database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "tasks.sqlite")
    return request.getfixturevalue("postgresql").new_database()


@pytest.fixture
def store(tmp_path: pathlib.Path) -> TaskStore:
    task_store = TaskStore(str(tmp_path / "tasks.sqlite"))
    yield task_store
    task_store.close()


@pytest.fixture
def make_client_on(tmp_path: pathlib.Path):
    """A client of the service on this store, with this backend and these auth settings on top of the test users."""

    def make(task_store: TaskStore, backend: Any, **auth: Any) -> TestClient:
        data = settings_data(tmp_path)
        data["auth"].update(auth)
        # From loopback, as nginx and the role's checks call the service (/healthz answers loopback only).
        return TestClient(create_app(parse(data), task_store, backend), raise_server_exceptions=False,
                          client=("127.0.0.1", 50000))

    return make


@pytest.fixture
def make_client(make_client_on, store: TaskStore):
    """A client of the service with this backend, and these auth settings on top of the test users."""
    return lambda backend, **auth: make_client_on(store, backend, **auth)


@pytest.fixture
def client(make_client, backend: RecordingBackend) -> TestClient:
    return make_client(backend)


ECHO = {"name": "echo", "executors": [{"image": "lab-registry:5000/debian:trixie", "command": ["echo", "hello"]}]}
