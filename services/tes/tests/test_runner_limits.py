"""What an executor can make of its outputs, and what the runner bounds (security review of runner.py).

An executor is untrusted code: hard links and sparse files cost it nothing but would fill the outputs archive, many
empty files the outputs list (backend.max_output_bytes and max_output_files); a very deep DIRECTORY output, names
that are not UTF-8, or a socket or directory where a stream is written must end the task with a log, not break the
runner. The executor's image must be a registry image, not one of podman's transports that read the node's files.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile

import pytest
from conftest import ECHO, bearer
from test_runner import task

from pulsar_network_tes import config, plan, runner

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def runtime(fake_podman, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_podman.parent}:{os.environ['PATH']}")


def sh(script):
    return {"image": "ok/a", "command": ["sh", "-c", script]}


def run_limited(tmp_path, monkeypatch, task_fields, **limits):
    """runner.run on a plan built with LIMITS (plan.build's keywords); the result, as LOG_JSON holds it too."""
    work, staged = tmp_path / "job", tmp_path / "staged"
    work.mkdir()
    staged.mkdir()
    (staged / "plan.json").write_text(json.dumps(plan.build(task(**task_fields), "podman", [], 64, **limits)))
    monkeypatch.chdir(work)
    result = runner.run(str(staged / "plan.json"), str(tmp_path / "outputs.tar"), str(tmp_path / "log.json"))
    assert json.loads((tmp_path / "log.json").read_text()) == result
    return result


def out_dir(script, **limits):
    return {"outputs": [{"path": "/out", "type": "DIRECTORY", "url": "file:///x"}], "executors": [sh(script)]}, limits


def assert_system_error(tmp_path, result, message):
    assert result["outcome"] == "SYSTEM_ERROR", result
    assert result["system_logs"] == [message]
    assert result["outputs"] == []
    with tarfile.open(tmp_path / "outputs.tar") as archive:
        assert archive.getmembers() == []


def test_the_output_limits_are_settings_put_in_the_plan():
    backend = config.parse({"store": "x"}).backend
    assert (backend.max_output_bytes, backend.max_output_files) == (10 * 1024**3, 10000)
    backend = config.parse({"store": "x", "backend": {"max_output_bytes": 5, "max_output_files": 6}}).backend
    assert (backend.max_output_bytes, backend.max_output_files) == (5, 6)
    built = plan.build(task(), "podman", [], 10)
    assert (built["max_output_bytes"], built["max_output_files"]) == (10 * 1024**3, 10000)
    built = plan.build(task(), "podman", [], 10, max_output_bytes=5, max_output_files=6)
    assert (built["max_output_bytes"], built["max_output_files"]) == (5, 6)


@pytest.mark.parametrize("script, limits, message", [
    ("for i in 1 2 3 4 5 6; do : > /out/$i; done", {"max_output_files": 5}, "outputs: more than 5 files"),
    ("mkdir /out/a; for i in 1 2 3; do : > /out/$i; : > /out/a/$i; done", {"max_output_files": 5},
     "outputs: more than 5 files"),
    # 20 hard links to one 1 MiB file: each counts in full, as each is packed in full.
    ("head -c 1048576 /dev/zero > /out/f; for i in $(seq 20); do ln /out/f /out/l$i; done",
     {"max_output_bytes": 10 * MIB}, f"outputs: more than {10 * MIB} bytes"),
    # A sparse file counts with its apparent size.
    ("truncate -s 300M /out/sparse", {"max_output_bytes": 10 * MIB}, f"outputs: more than {10 * MIB} bytes"),
])
def test_outputs_past_a_limit_are_a_system_error_and_an_empty_archive(tmp_path, monkeypatch, script, limits, message):
    fields, limits = out_dir(script, **limits)
    assert_system_error(tmp_path, run_limited(tmp_path, monkeypatch, fields, **limits), message)


def test_the_limits_count_across_outputs_and_allow_exactly_the_limit(tmp_path, monkeypatch):
    fields = {"outputs": [{"path": "/out/a", "type": "FILE", "url": "file:///x"},
                          {"path": "/out/*.txt", "path_prefix": "/out", "type": "FILE", "url": "file:///y"}],
              "executors": [sh("printf 12345 > /out/a; printf 123 > /out/b.txt; printf 12 > /out/c.txt")]}
    result = run_limited(tmp_path, monkeypatch, fields, max_output_files=3, max_output_bytes=10)
    assert result["outcome"] == "COMPLETE", result
    assert [o["size_bytes"] for o in result["outputs"]] == [5, 3, 2]
    (tmp_path / "again").mkdir()
    result = run_limited(tmp_path / "again", monkeypatch, fields, max_output_files=2)
    assert result["system_logs"] == ["outputs: more than 2 files"]


def test_a_very_deep_directory_output_is_a_system_error(tmp_path, monkeypatch):
    fields, limits = out_dir("cd /out && for i in $(seq 100); do mkdir d && cd d; done && echo x > f")
    assert_system_error(tmp_path, run_limited(tmp_path, monkeypatch, fields, **limits),
                        "outputs[0].path: /out holds directories more than 64 levels deep")


def test_a_directory_output_64_levels_deep_is_packed(tmp_path, monkeypatch):
    fields, limits = out_dir("cd /out && for i in $(seq 63); do mkdir d && cd d; done && echo x > f")
    result = run_limited(tmp_path, monkeypatch, fields, **limits)
    assert result["outcome"] == "COMPLETE", result
    assert [o["relative"] for o in result["outputs"]] == ["d/" * 63 + "f"]


def test_an_unexpected_error_is_a_system_error_with_a_log(tmp_path, monkeypatch):
    def broken(*_args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(runner, "collect_outputs", broken)
    fields, limits = out_dir("true")
    assert_system_error(tmp_path, run_limited(tmp_path, monkeypatch, fields, **limits),
                        "RecursionError: maximum recursion depth exceeded")


def test_names_that_are_not_utf8_are_left_out(tmp_path, monkeypatch):
    fields = {"outputs": [{"path": "/out", "type": "DIRECTORY", "url": "file:///x"},
                          {"path": "/res/*", "path_prefix": "/res", "type": "FILE", "url": "file:///y"}],
              "executors": [sh("bad=$(printf 'x\\377'); mkdir /out/$bad; echo a > /out/$bad/in; echo b > /out/$bad; "
                               "echo c > /out/ok.txt; echo d > /res/$bad; echo e > /res/ok")]}
    result = run_limited(tmp_path, monkeypatch, fields)
    assert result["outcome"] == "COMPLETE", result
    assert [(o["index"], o["relative"]) for o in result["outputs"]] == [(0, "ok.txt"), (1, "ok")]


@pytest.mark.parametrize("make, stream", [
    ("mkdir /out/log", "stdout"),
    ("mkdir /out/log", "stderr"),
    (f"{sys.executable} -c \"import socket; socket.socket(socket.AF_UNIX).bind('/out/log')\"", "stdout"),
    (f"{sys.executable} -c \"import socket; socket.socket(socket.AF_UNIX).bind('/out/log')\"", "stdin"),
])
def test_a_stream_that_is_not_a_regular_file_is_not_opened(tmp_path, monkeypatch, make, stream):
    result = run_limited(tmp_path, monkeypatch, {"volumes": ["/out"], "executors": [
        sh(make), {**sh("true"), stream: "/out/log"}]})
    assert result["outcome"] == "SYSTEM_ERROR", result
    assert result["system_logs"] == [f"executors[1].{stream}: /out/log is not a regular file"]


def test_a_socket_where_a_file_output_is_named_is_a_system_error(tmp_path, monkeypatch):
    result = run_limited(tmp_path, monkeypatch, {
        "outputs": [{"path": "/out/x", "type": "FILE", "url": "file:///x"}],
        "executors": [sh(f"{sys.executable} -c \"import socket; socket.socket(socket.AF_UNIX).bind('/out/x')\"")]})
    assert_system_error(tmp_path, result, "outputs[0].path: /out/x is not a regular file")


EXECUTOR = ECHO["executors"][0]
TRANSPORT = "names an image transport; give a registry image (REGISTRY/NAME:TAG)"


@pytest.mark.parametrize("image", [
    "dir:/srv/pulsar/other-job/image", "oci-archive:/tmp/x.tar", "docker-archive:/tmp/x.tar",
    "containers-storage:localhost/busybox", "oci:/tmp/layout:latest", "docker-daemon:busybox:latest",
    "ostree:busybox@/ostree/repo", "sif:/tmp/x.sif", "OCI:/tmp/layout", "oci:5000/busybox:1",
])
def test_an_image_transport_is_400(client, backend, image):
    response = client.post("/ga4gh/tes/v1/tasks", json={"executors": [{**EXECUTOR, "image": image}]},
                           headers=bearer("alice"))
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"executors[0].image: '{image.split(':')[0]}:' {TRANSPORT}"
    assert backend.submitted == []


@pytest.mark.parametrize("image", [
    "busybox", "busybox:1.36", "registry:5000/name:tag", "lab-registry:5000/debian:trixie", "docker://busybox:1",
    "docker://registry:5000/lab/busybox:1", "dir.example.org/lab/tool:1", "oci.example.org:5000/x:1",
    "reg.example:5000/lab/busybox:1@sha256:0123",
])
def test_registry_images_are_accepted(client, backend, image):
    response = client.post("/ga4gh/tes/v1/tasks", json={"executors": [{**EXECUTOR, "image": image}]},
                           headers=bearer("alice"))
    assert response.status_code == 200, response.text
    assert backend.submitted[0]["executors"][0]["image"] == image
