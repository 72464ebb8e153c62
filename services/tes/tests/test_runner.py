"""plan.py and runner.py: the mount points a task needs, and its executors run in order with a stand-in runtime
(fakes/fake_runtime.py). Real containers run in the tes scenario."""

from __future__ import annotations

import json
import os
import tarfile

import pytest
from pulsar_network_tes import plan, runner


def task(**fields):
    return {"executors": [{"image": "ok/busybox", "command": ["true"]}], **fields}


def test_mount_points_cover_every_path_once():
    points = plan.mount_points(task(
        volumes=["/shared"],
        inputs=[{"path": "/data/in/a.txt", "type": "FILE"}, {"path": "/shared/sub", "type": "DIRECTORY"}],
        outputs=[{"path": "/out/result.txt", "type": "FILE"},
                 {"path": "/shared/res/*.txt", "path_prefix": "/shared/res", "type": "FILE"}],
        executors=[{"image": "ok/x", "command": ["x"], "stdout": "/logs/out.txt"}]))
    assert points == ["/data/in", "/logs", "/out", "/shared"]


@pytest.mark.parametrize("fields, message", [
    ({"inputs": [{"path": "/a.txt", "type": "FILE"}]}, "inputs[0].path: /a.txt is at the container's root"),
    ({"volumes": ["/"]}, "volumes[0]: / is at the container's root"),
    ({"outputs": [{"path": "/x/*.txt", "path_prefix": "/y", "type": "FILE"}]},
     "outputs[0].path_prefix: /x/*.txt does not start with /y"),
])
def test_paths_that_cannot_be_laid_out_name_the_field(fields, message):
    with pytest.raises(plan.PlanError, match=message.replace("[", r"\[").replace("]", r"\]").replace("*", r"\*")):
        plan.mount_points(task(**fields))


@pytest.fixture(autouse=True)
def runtime(fake_podman, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_podman.parent}:{os.environ['PATH']}")


def run_task(tmp_path, monkeypatch, task_fields, inputs=None):
    work = tmp_path / "job"
    work.mkdir()
    staged = tmp_path / "staged"
    staged.mkdir()
    for name, content in (inputs or {}).items():
        (staged / name).write_text(content)
    the_plan = plan.build(task(**task_fields), "podman", [], 64)
    (staged / "plan.json").write_text(json.dumps(the_plan))
    monkeypatch.chdir(work)
    result = runner.run(str(staged / "plan.json"), str(tmp_path / "outputs.tar"), str(tmp_path / "log.json"),
                        *[str(staged / name) for name in inputs or {}])
    assert json.loads((tmp_path / "log.json").read_text()) == result
    return result


def test_executors_share_volumes_in_order_and_outputs_are_packed(tmp_path, monkeypatch):
    result = run_task(tmp_path, monkeypatch, {
        "volumes": ["/vol"],
        "inputs": [{"path": "/data/in.txt", "type": "FILE"}],
        "outputs": [{"path": "/vol/*.txt", "path_prefix": "/vol", "type": "FILE", "url": "file:///x"}],
        "executors": [
            {"image": "ok/a", "command": ["sh", "-c", "tr a-z A-Z < /data/in.txt > /vol/one.txt"]},
            {"image": "ok/a", "command": ["sh", "-c", "echo failing; exit 3"], "ignore_error": True},
            {"image": "ok/a", "command": ["sh", "-c", "cat /vol/one.txt; echo $GREETING > /vol/two.txt"],
             "env": {"GREETING": "hello"}},
        ]}, inputs={"tes-input-0": "abc\n"})
    assert result["outcome"] == "COMPLETE"
    assert [e["exit_code"] for e in result["executors"]] == [0, 3, 0]
    assert result["executors"][1]["stdout"] == "failing\n"
    assert result["executors"][2]["stdout"] == "ABC\n"
    assert result["outputs"] == [{"index": 0, "relative": "one.txt", "size_bytes": 4},
                                 {"index": 0, "relative": "two.txt", "size_bytes": 6}]
    with tarfile.open(tmp_path / "outputs.tar") as archive:
        assert archive.extractfile("o0/two.txt").read() == b"hello\n"


def test_a_failing_executor_stops_the_task(tmp_path, monkeypatch):
    result = run_task(tmp_path, monkeypatch, {"executors": [
        {"image": "ok/a", "command": ["sh", "-c", "echo oops >&2; exit 2"]},
        {"image": "ok/a", "command": ["true"]}]})
    assert result["outcome"] == "EXECUTOR_ERROR"
    assert [(e["exit_code"], e["stderr"]) for e in result["executors"]] == [(2, "oops\n")]


def test_stdin_stdout_and_workdir_are_honoured(tmp_path, monkeypatch):
    result = run_task(tmp_path, monkeypatch, {
        "inputs": [{"path": "/in/words", "type": "FILE"}],
        "outputs": [{"path": "/out/sorted", "type": "FILE", "url": "file:///x"}],
        "executors": [{"image": "ok/a", "command": ["sh", "-c", "sort; pwd >&2"], "stdin": "/in/words",
                       "stdout": "/out/sorted", "workdir": "/in"}]}, inputs={"tes-input-0": "b\na\n"})
    assert result["outcome"] == "COMPLETE", result
    assert result["executors"][0]["stdout"] == "a\nb\n"
    assert result["executors"][0]["stderr"].strip().endswith("tes-root/in")


def test_an_image_that_cannot_be_pulled_and_a_missing_output_are_system_errors(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pulled = run_task(tmp_path / "a", monkeypatch, {"executors": [{"image": "missing/x", "command": ["true"]}]})
    assert pulled["outcome"] == "SYSTEM_ERROR"
    assert pulled["system_logs"] == ["executors[0].image: missing/x cannot be pulled (Error: image not known)"]
    missing = run_task(tmp_path / "b", monkeypatch, {"outputs": [{"path": "/out/none.txt", "type": "FILE", "url": "file:///x"}]})
    assert missing["outcome"] == "SYSTEM_ERROR"
    assert missing["system_logs"] == ["outputs[0].path: the file /out/none.txt was not produced"]


def test_the_runtimes_own_failure_is_a_system_error_even_with_ignore_error(tmp_path, monkeypatch):
    """podman's exit 125 is podman failing, not the command: not the executor's error, and not one to ignore."""
    result = run_task(tmp_path, monkeypatch, {"executors": [
        {"image": "broken/x", "command": ["true"], "ignore_error": True}, {"image": "ok/a", "command": ["true"]}]})
    assert result["outcome"] == "SYSTEM_ERROR"
    assert result["system_logs"] == [
        "executors[0]: podman could not run the container (Error: failed to connect to container's attach socket)"]
    assert [e["exit_code"] for e in result["executors"]] == [125]


def test_jobs_share_the_users_run_directory_when_the_node_provides_it(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    shared, private_dir = tmp_path / "run-user", runner._private_dir
    monkeypatch.setattr(runner, "_private_dir", lambda path: path == f"/run/user/{os.getuid()}")
    assert runner.runtime_env()["XDG_RUNTIME_DIR"] == f"/run/user/{os.getuid()}"
    monkeypatch.setattr(runner, "_private_dir", lambda path: False)
    assert "XDG_RUNTIME_DIR" not in runner.runtime_env()
    shared.mkdir(mode=0o755)
    assert not private_dir(str(shared))  # others may read it: podman would refuse it too
    shared.chmod(0o700)
    assert private_dir(str(shared))


def test_stdout_and_stderr_keep_only_their_tail(tmp_path, monkeypatch):
    result = run_task(tmp_path, monkeypatch, {"executors": [
        {"image": "ok/a", "command": ["sh", "-c", "seq 1 1000"]}]})
    assert len(result["executors"][0]["stdout"].encode()) == 64
    assert result["executors"][0]["stdout"].endswith("999\n1000\n")


def test_podman_and_apptainer_command_lines():
    executor = {"image": "reg:5000/busybox:1", "command": ["sh", "-c", "ls"], "workdir": "/data", "env": {"A": "1"},
                "stdin": "/data/in"}
    assert runner.container_argv("podman", [], "/j/tes-root", ["/data"], executor, "host") == [
        "podman", "run", "--rm", "--network=host", "--entrypoint", '["sh"]', "--volume", "/j/tes-root/data:/data",
        "--env", "A=1", "--workdir", "/data", "--interactive", "reg:5000/busybox:1", "-c", "ls"]
    assert runner.container_argv("apptainer", [], "/j/tes-root", ["/data"], executor, "host") == [
        "apptainer", "exec", "--containall", "--no-home", "--bind", "/j/tes-root/data:/data", "--env", "A=1",
        "--pwd", "/data", "docker://reg:5000/busybox:1", "sh", "-c", "ls"]
