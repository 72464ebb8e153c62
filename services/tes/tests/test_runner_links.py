"""runner.py follows no link an executor could have made (issue #26).

An executor is untrusted code that can write in every mounted directory, so it can leave symbolic links there that
point at the execute node's own files, such as another job's tool_script.sh. The stand-in runtime runs executors on this
host, so `ln -s` in a task really plants such a link in the job's tes-root. The runner must neither write through one
(stdout, stderr), nor read through one (stdin, outputs): a link where the task names a file or directory is a
SYSTEM_ERROR naming the field, and links inside a DIRECTORY output or matched by a wildcard are left out.
Also: the executors' network (backend.executor_network) as each runtime is told it.
"""

from __future__ import annotations

import glob
import json
import os
import tarfile

import pytest
from test_runner import run_task

from pulsar_network_tes import config, plan, runner, runner_outputs

SECRET = b"echo the other job's own script, not the task's\n"


@pytest.fixture(autouse=True)
def runtime(fake_podman, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_podman.parent}:{os.environ['PATH']}")


@pytest.fixture
def other_job(tmp_path):
    """A directory of the node outside this job's: another job's, with its tool_script.sh."""
    directory = tmp_path / "other-job"
    directory.mkdir()
    (directory / "tool_script.sh").write_bytes(SECRET)
    return directory


def sh(script):
    return {"image": "ok/a", "command": ["sh", "-c", script]}


def assert_untouched(tmp_path, other_job, result):
    """The other job's directory is as it was, and nothing of it came back in the log or the outputs."""
    assert sorted(p.name for p in other_job.iterdir()) == ["tool_script.sh"]
    assert (other_job / "tool_script.sh").read_bytes() == SECRET
    assert SECRET.decode().strip() not in json.dumps(result)
    with tarfile.open(tmp_path / "outputs.tar") as archive:
        for member in archive.getmembers():
            assert member.isreg(), f"{member.name} is not a regular file in the outputs"
            assert SECRET not in archive.extractfile(member).read()


@pytest.mark.parametrize("stream, link, target, named", [
    ("stdout", "/out/log", "tool_script.sh", "/out/log"),
    ("stderr", "/out/log", "tool_script.sh", "/out/log"),
    ("stdout", "/out/log", "new-file", "/out/log"),  # a dangling link: the runner would create the file
    ("stdout", "/out/sub", "", "/out/sub"),  # the stream's directory is the link
])
def test_a_link_at_stdout_or_stderr_is_not_written_through(
        tmp_path, monkeypatch, other_job, stream, link, target, named):
    path = "/out/sub/tool_script.sh" if link == "/out/sub" else "/out/log"
    result = run_task(tmp_path, monkeypatch, {"volumes": ["/out"], "executors": [
        sh(f"ln -s {other_job / target if target else other_job} {link}"),
        {**sh("echo overwritten; echo overwritten >&2"), stream: path}]})
    assert result["outcome"] == "SYSTEM_ERROR"
    assert result["system_logs"] == [f"executors[1].{stream}: {named} is a symbolic link; the runner follows none"]
    assert len(result["executors"]) == 1
    assert_untouched(tmp_path, other_job, result)


def test_an_executor_that_swaps_its_stdout_for_a_link_gets_its_own_output_in_the_log(tmp_path, monkeypatch, other_job):
    result = run_task(tmp_path, monkeypatch, {"executors": [
        {**sh(f"echo mine; rm /out/log; ln -s {other_job / 'tool_script.sh'} /out/log"), "stdout": "/out/log"}]})
    assert result["outcome"] == "COMPLETE"
    assert result["executors"][0]["stdout"] == "mine\n"
    assert_untouched(tmp_path, other_job, result)


def test_a_link_at_stdin_is_not_read(tmp_path, monkeypatch, other_job):
    result = run_task(tmp_path, monkeypatch, {"executors": [
        sh(f"ln -s {other_job / 'tool_script.sh'} /in/words"), {**sh("cat"), "stdin": "/in/words"}]})
    assert result["outcome"] == "SYSTEM_ERROR"
    assert result["system_logs"] == ["executors[1].stdin: /in/words is a symbolic link; the runner follows none"]
    assert_untouched(tmp_path, other_job, result)


@pytest.mark.parametrize("stream, path", [("stdin", "/in/words"), ("stdout", "/in/words")])
def test_a_fifo_left_for_stdin_or_stdout_does_not_block_the_runner(tmp_path, monkeypatch, stream, path):
    result = run_task(tmp_path, monkeypatch, {"executors": [sh(f"mkfifo {path}"), {**sh("true"), stream: path}]})
    assert result["outcome"] == "SYSTEM_ERROR"
    assert result["system_logs"] == [f"executors[1].{stream}: {path} is not a regular file"]


@pytest.mark.parametrize("output, link, named", [
    ({"path": "/out/x", "type": "FILE"}, "tool_script.sh /out/x", "/out/x"),
    ({"path": "/out/sub/tool_script.sh", "type": "FILE"}, ". /out/sub", "/out/sub"),
    ({"path": "/out/dir", "type": "DIRECTORY"}, ". /out/dir", "/out/dir"),
    ({"path": "/out/dir/other-job", "type": "DIRECTORY"}, ".. /out/dir", "/out/dir"),
    ({"path": "/out/sub/*.sh", "path_prefix": "/out", "type": "FILE"}, ". /out/sub", "/out/sub"),
])
def test_a_link_where_an_output_is_named_is_a_system_error(tmp_path, monkeypatch, other_job, output, link, named):
    target, at = link.split()
    result = run_task(tmp_path, monkeypatch, {
        "volumes": ["/out"], "outputs": [{**output, "url": "file:///x"}],
        "executors": [sh(f"ln -s {other_job / target} {at}")]})
    assert result["outcome"] == "SYSTEM_ERROR"
    assert result["system_logs"] == [f"outputs[0].path: {named} is a symbolic link; the runner follows none"]
    assert result["outputs"] == []
    assert_untouched(tmp_path, other_job, result)


def test_links_inside_a_directory_output_are_left_out(tmp_path, monkeypatch, other_job):
    result = run_task(tmp_path, monkeypatch, {
        "outputs": [{"path": "/out", "type": "DIRECTORY", "url": "file:///x"}],
        "executors": [sh(f"mkdir -p /out/a/b; echo one > /out/a/b/one.txt; echo top > /out/top.txt; "
                         f"ln -s {other_job / 'tool_script.sh'} /out/file-link; ln -s {other_job} /out/a/dir-link; "
                         f"ln -s /out/top.txt /out/a/b/inner-link")]})
    assert result["outcome"] == "COMPLETE", result
    assert sorted((o["relative"], o["size_bytes"]) for o in result["outputs"]) == [("a/b/one.txt", 4), ("top.txt", 4)]
    assert_untouched(tmp_path, other_job, result)


def test_wildcards_leave_out_links_and_linked_directories(tmp_path, monkeypatch, other_job):
    result = run_task(tmp_path, monkeypatch, {
        "outputs": [{"path": "/out/*.sh", "path_prefix": "/out", "type": "FILE", "url": "file:///x"},
                    {"path": "/out/*/*.sh", "path_prefix": "/out", "type": "FILE", "url": "file:///y"}],
        "executors": [sh(f"mkdir /out/real; echo a > /out/a.sh; echo b > /out/real/b.sh; "
                         f"ln -s {other_job / 'tool_script.sh'} /out/tool_script.sh; ln -s {other_job} /out/other")]})
    assert result["outcome"] == "COMPLETE", result
    assert [(o["index"], o["relative"]) for o in result["outputs"]] == [(0, "a.sh"), (1, "real/b.sh")]
    with tarfile.open(tmp_path / "outputs.tar") as archive:
        assert archive.extractfile("o1/real/b.sh").read() == b"b\n"
    assert_untouched(tmp_path, other_job, result)


@pytest.mark.parametrize("pattern", ["/res/*.txt", "/res/*/*.txt", "/res/*", "/res/.*", "/res/[ab]?.txt",
                                     "/res/sub/*.txt", "/res/**/*.txt", "/res/none/*"])
def test_wildcards_match_what_glob_matched_without_links(tmp_path, monkeypatch, pattern):
    """Matching walks the directories itself now; without links it finds what glob.glob did (files only)."""
    root = tmp_path / "root"
    for name in ["a1.txt", "b2.txt", "c.log", ".hidden.txt", "sub/x.txt", "sub/deeper/y.txt", "sub2/z.txt"]:
        (root / "res" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "res" / name).write_text(name)
    (root / "res" / "dir.txt").mkdir()
    by_glob = sorted(os.path.relpath(m, root / "res") for m in glob.glob(str(root) + pattern) if os.path.isfile(m))
    tar_path = tmp_path / "out.tar"
    outputs_plan = {"outputs": [{"path": pattern, "path_prefix": "/res", "type": "FILE"}]}
    manifest = runner_outputs.collect_outputs(outputs_plan, str(root), str(tar_path))
    assert sorted(m["relative"] for m in manifest) == by_glob


EXECUTOR = {"image": "reg:5000/busybox:1", "command": ["sh", "-c", "ls"]}


@pytest.mark.parametrize("runtime, network, flags", [
    ("podman", "private", ["--network=private"]),
    ("podman", "none", ["--network=none"]),
    ("podman", "host", ["--network=host"]),
    ("docker", "private", []),
    ("docker", "none", ["--network=none"]),
    ("docker", "host", ["--network=host"]),
    ("apptainer", "private", ["--net", "--network=none"]),
    ("apptainer", "none", ["--net", "--network=none"]),
    ("apptainer", "host", []),
])
def test_the_executor_network_is_given_to_each_runtime(runtime, network, flags):
    argv = runner.container_argv(runtime, ["--extra"], "/j/tes-root", ["/data"], EXECUTOR, network)
    start = 4 if runtime == "apptainer" else 3
    assert argv[:start] == ([runtime, "exec", "--containall", "--no-home"] if runtime == "apptainer"
                            else [runtime, "run", "--rm"])
    assert argv[start:start + len(flags) + 1] == [*flags, "--extra"]


def test_executors_have_a_private_network_unless_the_settings_say_otherwise(tmp_path):
    assert config.parse({"store": "x"}).backend.executor_network == "private"
    assert config.parse({"store": "x"}).backend.runtime_args == ()
    assert config.parse({"store": "x", "backend": {"executor_network": "host"}}).backend.executor_network == "host"
    with pytest.raises(config.ConfigError, match="backend.executor_network: open is not one of private, none, host"):
        config.parse({"store": "x", "backend": {"executor_network": "open"}})
    task = {"executors": [EXECUTOR]}
    assert plan.build(task, "podman", [], 10)["executor_network"] == "private"
    assert plan.build(task, "podman", [], 10, executor_network="none")["executor_network"] == "none"
    argv = runner.container_argv("podman", [], "/j/tes-root", ["/data"], EXECUTOR)
    assert "--network=private" in argv
