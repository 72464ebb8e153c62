"""Each user's own area under each storage root (issue #26): a task reads and writes `file://` paths in its owner's
area only, reads the shared directories the settings name, and never another user's files, through a symlink either."""

from __future__ import annotations

import io
import pathlib
import tarfile
from typing import Any

import pytest
from conftest import ECHO, bearer, settings_data
from fastapi.testclient import TestClient
from pulsar_network_tes.app import create_app
from pulsar_network_tes.config import ConfigError, parse
from pulsar_network_tes.pulsar_backend import PulsarBackend
from pulsar_network_tes.staging import StagingError
from pulsar_network_tes.store import TaskStore


class CheckingBackend:
    """The service's own check of a task's paths (PulsarBackend.problem); what it submits is only recorded."""

    def __init__(self, real: PulsarBackend) -> None:
        self.real, self.submitted = real, []

    def problem(self, task: dict[str, Any], owner: str) -> str | None:
        return self.real.problem(task, owner)

    def submit(self, task: dict[str, Any]) -> None:
        self.submitted.append(task)

    def cancel(self, task: dict[str, Any]) -> None:
        pass


@pytest.fixture
def site(tmp_path: pathlib.Path):
    """A storage root with alice's and bob's areas and a shared directory; the service on it; alice's client."""
    storage = tmp_path / "storage"
    for area in ("alice", "bob", "shared"):
        (storage / area).mkdir(parents=True)
    (storage / "alice" / "own.txt").write_text("alice's data\n")
    (storage / "bob" / "private.txt").write_text("bob's secret\n")
    (storage / "shared" / "reference.txt").write_text("for everyone\n")
    (storage / "alice" / "link.txt").symlink_to(storage / "bob" / "private.txt")
    settings = parse(settings_data(tmp_path, backend={
        "work_dir": str(tmp_path / "jobs"), "storage_roots": [str(storage)], "shared_storage": [str(storage / "shared")]}))
    store = TaskStore(settings.store)
    real = PulsarBackend(settings, store, b"k" * 32)
    client = TestClient(create_app(settings, store, CheckingBackend(real)), raise_server_exceptions=False)
    yield {"storage": storage, "staging": real.staging, "client": client, "root": str(storage)}
    store.close()


def post(site: dict[str, Any], inputs: list[dict] | None = None, outputs: list[dict] | None = None,
         user: str = "alice") -> Any:
    body = {**ECHO, "inputs": inputs or [], "outputs": outputs or []}
    return site["client"].post("/ga4gh/tes/v1/tasks", json=body, headers=bearer(user))


def url(site: dict[str, Any], relative: str) -> str:
    return f"file://{site['root']}/{relative}"


def test_a_users_own_area_serves_inputs_and_outputs(site):
    response = post(site, inputs=[{"path": "/in/own.txt", "url": url(site, "alice/own.txt")}],
                    outputs=[{"path": "/out/r.txt", "url": url(site, "alice/results/r.txt")}])
    assert response.status_code == 200, response.text


def test_an_input_in_another_users_area_is_refused_naming_the_field(site):
    response = post(site, inputs=[{"path": "/in/x", "url": url(site, "bob/private.txt")}])
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"inputs[0].url: {site['root']}/bob/private.txt is outside your storage areas "
        f"({site['root']}/alice, {site['root']}/shared)")


def test_an_output_in_another_users_area_is_refused_naming_the_field(site):
    response = post(site, outputs=[{"path": "/out/x", "url": url(site, "bob/private.txt")}])
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"outputs[0].url: {site['root']}/bob/private.txt is outside your storage areas ({site['root']}/alice)")


def test_a_path_under_the_root_but_in_no_area_is_refused(site):
    response = post(site, inputs=[{"path": "/in/x", "url": url(site, "alice/../bob/private.txt")}])
    assert response.status_code == 400 and "is outside your storage areas" in response.json()["message"]


def test_a_symlink_in_ones_own_area_to_another_users_file_is_refused(site):
    response = post(site, inputs=[{"path": "/in/x", "url": url(site, "alice/link.txt")}])
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"inputs[0].url: {site['root']}/bob/private.txt is outside")
    task = {"id": "t1", "inputs": [{"path": "/in/x", "url": url(site, "alice/link.txt"), "type": "FILE"}]}
    with pytest.raises(StagingError):  # checked again when the task's inputs are gathered
        site["staging"].gather_inputs(task, "alice")


def test_the_shared_storage_is_read_by_everyone_but_written_by_no_one(site):
    assert post(site, inputs=[{"path": "/in/r", "url": url(site, "shared/reference.txt")}]).status_code == 200
    task = {"id": "t1", "inputs": [{"path": "/in/r", "url": url(site, "shared/reference.txt"), "type": "FILE"}]}
    [path] = site["staging"].gather_inputs(task, "bob")
    assert pathlib.Path(path).read_text(encoding="utf-8") == "for everyone\n"
    response = post(site, outputs=[{"path": "/out/x", "url": url(site, "shared/new.txt")}])
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"outputs[0].url: {site['root']}/shared/new.txt is outside your storage areas ({site['root']}/alice)")


def test_an_admin_has_only_its_own_area(site):
    response = post(site, inputs=[{"path": "/in/x", "url": url(site, "alice/own.txt")}], user="admin")
    assert response.status_code == 400
    assert response.json()["message"].endswith(f"is outside your storage areas ({site['root']}/admin, {site['root']}/shared)")


def crafted_outputs(site: dict[str, Any], content: bytes, member: str = "o0") -> str:
    """The runner's tar of outputs, as an endpoint could send it back."""
    tar_path = str(site["storage"].parent / "outputs.tar")
    with tarfile.open(tar_path, "w") as archive:
        info = tarfile.TarInfo(member)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return tar_path


@pytest.mark.parametrize("relative", ["bob/private.txt", "alice/link.txt", "shared/reference.txt"])
def test_delivering_an_output_never_overwrites_another_users_or_shared_file(site, relative):
    """A task stored before the check, or a URL made by joining an output's path: delivery checks again."""
    task = {"id": "t1", "outputs": [{"path": "/out/x", "url": url(site, relative), "type": "FILE"}]}
    with pytest.raises(StagingError) as caught:
        site["staging"].deliver_outputs(task, "alice", crafted_outputs(site, b"overwritten by alice\n"),
                                        [{"index": 0, "relative": "", "size_bytes": 21}])
    assert "is outside your storage areas" in str(caught.value)
    assert (site["storage"] / "bob" / "private.txt").read_text() == "bob's secret\n"
    assert (site["storage"] / "shared" / "reference.txt").read_text() == "for everyone\n"


def test_a_directory_outputs_file_cannot_climb_out_of_the_area(site):
    task = {"id": "t1", "outputs": [{"path": "/out", "url": url(site, "alice/out"), "type": "DIRECTORY"}]}
    with pytest.raises(StagingError):
        site["staging"].deliver_outputs(task, "alice", crafted_outputs(site, b"x", "o0/../../bob/private.txt"),
                                        [{"index": 0, "relative": "../../bob/private.txt", "size_bytes": 1}])
    assert (site["storage"] / "bob" / "private.txt").read_text() == "bob's secret\n"


def test_own_outputs_are_delivered(site):
    task = {"id": "t1", "outputs": [{"path": "/out/x", "url": url(site, "alice/results/x.txt"), "type": "FILE"}]}
    site["staging"].deliver_outputs(task, "alice", crafted_outputs(site, b"mine\n"),
                                    [{"index": 0, "relative": "", "size_bytes": 5}])
    assert (site["storage"] / "alice" / "results" / "x.txt").read_text() == "mine\n"


@pytest.mark.parametrize("owner", ["..", ".", "a/b", ""])
def test_a_user_name_that_is_not_one_path_component_has_no_area(site, owner):
    task = {"inputs": [{"path": "/in/x", "url": url(site, "bob/private.txt")}], "executors": ECHO["executors"]}
    assert site["staging"].check_urls(task, owner) is not None


def test_shared_storage_must_lie_under_a_storage_root(tmp_path):
    with pytest.raises(ConfigError, match="backend.shared_storage"):
        parse(settings_data(tmp_path, backend={"storage_roots": ["/srv/tes/storage"], "shared_storage": ["/etc"]}))
