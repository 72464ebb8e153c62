"""The fetch guard's deadline and per-user slots cover connecting and uploading too; outputs are delivered from the tar
in one pass; a NUL in a file:// URL is refused naming its field. Traffic goes to loopback addresses only."""

from __future__ import annotations

import io
import pathlib
import socket
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from conftest import ECHO, bearer, settings_data
from fastapi.testclient import TestClient
from http_servers import ALLOWED, Server, send
from pulsar_network_tes.app import create_app
from pulsar_network_tes.config import parse
from pulsar_network_tes.fetch import Fetcher, FetchError, Policy
from pulsar_network_tes.pulsar_backend import PulsarBackend
from pulsar_network_tes.staging import Staging, StagingError
from pulsar_network_tes.store import TaskStore
from test_storage_areas import CheckingBackend


@pytest.fixture
def web():
    made: list[Server] = []

    def make(routes: dict[str, Any]) -> Server:
        made.append(Server(ALLOWED, routes))
        return made[-1]

    yield make
    for each in made:
        each.close()


def output_tar(path: pathlib.Path, files: dict[str, bytes]) -> str:
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


# --- the deadline covers connecting -------------------------------------------------------------------------------
def test_the_deadline_covers_connecting_to_every_address_a_name_resolves_to(monkeypatch):
    """Five addresses that never answer: the download ends at its deadline, not after five connect timeouts."""
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (f"127.0.0.{n}", 8080)) for n in range(2, 7)]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    tried: list[tuple[str, float]] = []

    def never_answers(address, timeout, *args, **kwargs):
        tried.append((address[0], timeout))
        time.sleep(min(timeout, 5))
        raise TimeoutError("timed out")
    monkeypatch.setattr(socket, "create_connection", never_answers)
    fetcher = Fetcher(Policy(allow=("127.0.0.0/29",), timeout=2))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetcher.download("http://data.example:8080/x", io.BytesIO(), "alice", 1000)
    elapsed = time.monotonic() - started
    print(f"connect phase ended after {elapsed:.2f} s; tried {tried}")
    assert caught.value.reason == "timed out"
    assert elapsed < 2.5


# --- uploads: the deadline and the owner's slots -----------------------------------------------------------------
def test_an_upload_ends_at_the_deadline(web):
    def slow(handler: BaseHTTPRequestHandler) -> None:  # the body read (Server does), the answer comes late
        server.stop.wait(4)
        send(b"", 201)(handler)
    server = web({"/put": slow})
    fetcher = Fetcher(Policy(allow=(f"{ALLOWED}/32",), timeout=1))
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetcher.upload(f"{server.url}/put", io.BytesIO(b"result"), "alice")
    elapsed = time.monotonic() - started
    print(f"upload ended after {elapsed:.2f} s")
    assert caught.value.reason == "timed out"
    assert elapsed < 1.5


def test_an_upload_takes_one_of_its_owners_slots(web, tmp_path):
    """deliver_outputs passes the owner through to the upload: with one slot each, alice's is taken, bob's free."""
    arrived, release = threading.Event(), threading.Event()

    def held(handler: BaseHTTPRequestHandler) -> None:
        arrived.set()
        release.wait(5)
        send(b"", 201)(handler)
    server = web({"/put": held})
    fetcher = Fetcher(Policy(allow=(f"{ALLOWED}/32",), per_user=1))
    stage = Staging(str(tmp_path / "jobs"), (str(tmp_path / "storage"),), 1000, fetcher=fetcher)
    tar_path = output_tar(tmp_path / "out.tar", {"o0": b"result"})
    task = {"id": "t1", "outputs": [{"path": "/out/x", "url": f"{server.url}/put", "type": "FILE"}]}
    errors: list[Exception] = []

    def deliver() -> None:
        try:
            stage.deliver_outputs(task, "alice", tar_path, [{"index": 0, "relative": "", "size_bytes": 6}])
        except Exception as error:  # pylint: disable=broad-exception-caught
            errors.append(error)
    thread = threading.Thread(target=deliver)
    thread.start()
    try:
        assert arrived.wait(5)
        assert fetcher.busy("alice") and not fetcher.busy("bob")
    finally:
        release.set()
        thread.join(5)
    assert not errors and server.requests == [("PUT", "/put", b"result")]
    assert not fetcher.busy("alice")


# --- the worker's slot: taken without waiting, and used by the downloads it makes --------------------------------
def test_a_reserved_slot_is_taken_without_waiting_and_serves_the_threads_downloads(web):
    server = web({"/x": send(b"data")})
    fetcher = Fetcher(Policy(allow=(f"{ALLOWED}/32",), per_user=1))
    elsewhere: list[bool] = []

    def try_elsewhere() -> None:
        with fetcher.reserve("alice") as held:
            elsewhere.append(held)
    with fetcher.reserve("alice") as held:
        assert held and fetcher.busy("alice")
        other = threading.Thread(target=try_elsewhere)
        other.start()
        other.join(5)
        assert elsewhere == [False]  # another worker does not wait: it is told the slots are taken
        out = io.BytesIO()
        assert fetcher.download(f"{server.url}/x", out, "alice", 100) == 4  # in the reserving thread: no second slot
        assert out.getvalue() == b"data"
    assert not fetcher.busy("alice")
    with fetcher.reserve("alice", needed=False) as held:
        assert held and not fetcher.busy("alice")


# --- outputs are read from the tar in one pass --------------------------------------------------------------------
def test_twenty_thousand_outputs_are_delivered_in_one_pass(tmp_path):
    count = 20_000
    root = tmp_path / "storage"
    (root / "alice").mkdir(parents=True)
    stage = Staging(str(tmp_path / "jobs"), (str(root),), 1000)
    tar_path = output_tar(tmp_path / "out.tar", {f"o0/d{i % 10}/f{i}": str(i).encode() for i in range(count)})
    task = {"id": "t1", "outputs": [{"path": "/out/d", "url": f"file://{root}/alice/res", "type": "DIRECTORY"}]}
    manifest = [{"index": 0, "relative": f"d{i % 10}/f{i}", "size_bytes": len(str(i))} for i in range(count)]
    started = time.monotonic()
    delivered = stage.deliver_outputs(task, "alice", tar_path, manifest)
    print(f"{count} outputs delivered in {time.monotonic() - started:.2f} s")
    assert len(delivered) == count
    assert delivered[123] == {"url": f"file://{root}/alice/res/d3/f123", "path": "/out/d/d3/f123", "size_bytes": "3"}
    assert all((root / "alice" / "res" / f"d{i % 10}" / f"f{i}").read_text() == str(i) for i in range(0, count, 997))


def test_an_output_missing_from_the_tar_is_a_staging_error(tmp_path):
    root = tmp_path / "storage"
    (root / "alice").mkdir(parents=True)
    stage = Staging(str(tmp_path / "jobs"), (str(root),), 1000)
    tar_path = output_tar(tmp_path / "out.tar", {"o0": b"x"})
    task = {"id": "t1", "outputs": [{"path": "/out/x", "url": f"file://{root}/alice/x", "type": "FILE"},
                                    {"path": "/out/y", "url": f"file://{root}/alice/y", "type": "FILE"}]}
    with pytest.raises(StagingError) as caught:
        stage.deliver_outputs(task, "alice", tar_path, [{"index": 0, "relative": "", "size_bytes": 1},
                                                        {"index": 1, "relative": "", "size_bytes": 1}])
    assert str(caught.value) == "outputs[1]: /out/y is not a file"


# --- a NUL in a file:// URL -------------------------------------------------------------------------------------
@pytest.fixture
def site(tmp_path: pathlib.Path):
    storage = tmp_path / "storage"
    (storage / "alice").mkdir(parents=True)
    settings = parse(settings_data(tmp_path, backend={"work_dir": str(tmp_path / "jobs"), "storage_roots": [str(storage)]}))
    store = TaskStore(settings.store)
    real = PulsarBackend(settings, store, b"k" * 32)
    client = TestClient(create_app(settings, store, CheckingBackend(real)), raise_server_exceptions=False)
    yield {"root": str(storage), "staging": real.staging, "client": client}
    store.close()


@pytest.mark.parametrize("kind", ["inputs", "outputs"])
def test_a_nul_in_a_file_url_is_refused_naming_the_field(site, kind):
    task = {kind: [{"path": "/d/x", "url": f"file://{site['root']}/alice/x%00y"}]}
    assert site["staging"].check_urls(task, "alice") == f"{kind}[0].url: the path contains a NUL"
    response = site["client"].post("/ga4gh/tes/v1/tasks", json={**ECHO, **task}, headers=bearer("alice"))
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"{kind}[0].url: the path contains a NUL"


# --- 6to4 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("address", ["2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:5db8:d70e::1", "192.88.99.1",
                                     "::ffff:192.88.99.1"])
def test_6to4_addresses_are_refused_by_default(address):
    assert not Fetcher(Policy()).allowed(address)
    assert Fetcher(Policy(allow=("2002::/16", "192.88.99.0/24"))).allowed(address)
