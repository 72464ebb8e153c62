"""Runs one TES task's executors on an HTCondor execute node: the command line of the task's Pulsar job.

    python3 tes_runner.pyz PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]

The service writes PLAN (plan.py) and sends this runner with it as the job's inputs, one zip application with
runner_open.py and runner_outputs.py (tes_runner.pyz, job_layout.py); Pulsar stages both, and the task's inputs, onto
the endpoint. The inputs are named on the command line because Pulsar stages only the input files the command line
mentions, and rewrites each to where it put it. In the job's working directory this script
- lays out `tes-root/`, one host directory per mount point of the plan, and puts the inputs there;
- runs the executors in order, each in its image with a container runtime (podman, docker or apptainer), every mount
  point bound at its container path, so volumes, inputs and outputs are shared between executors, on the network
  the plan names (NETWORK_FLAGS); a non-zero exit stops the task unless the executor has ignore_error;
- packs the outputs (files, directories, wildcard matches) into OUTPUTS_TAR and writes LOG_JSON: each executor's
  times, exit code and the tail of its stdout and stderr, the outputs with their sizes, and the outcome.

Nothing the runner does under tes-root follows a symbolic link an executor left there (runner_open.py), and the outputs
are bounded (runner_outputs.py).

Pulsar sends both files back to the service. This script exits 0 whenever it could write LOG_JSON; a failure of its
own (an image that cannot be pulled, an output not produced, or any unexpected error) is recorded there as a system
error. It imports only the standard library (and its two modules), for the execute nodes' own python3.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tarfile
from typing import Any

from .runner_open import DIRECTORY, READ, WRITE, SystemFailure, open_beneath, regular
from .runner_outputs import collect_outputs

ROOT = "tes-root"
PULL_ATTEMPTS = 3
# podman's and docker's own failure (the runtime, not the command in the container): `podman run --help` documents it.
RUNTIME_FAILED = 125
# backend.executor_network, as each runtime is told it. private: a network of the container's own, without the node's
# (docker's default bridge; apptainer's --network=none leaves only the container's loopback).
NETWORK_FLAGS: dict[str, dict[str, list[str]]] = {
    "podman": {"private": ["--network=private"], "none": ["--network=none"], "host": ["--network=host"]},
    "docker": {"private": [], "none": ["--network=none"], "host": ["--network=host"]},
    "apptainer": {"private": ["--net", "--network=none"], "none": ["--net", "--network=none"], "host": []},
}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def host_path(root: str, path: str) -> str:
    """Where a container path under one of the plan's mount points lives in this job's directory."""
    return os.path.join(root, os.path.normpath(path).lstrip("/"))


def tail(fd: int, limit: int) -> str:
    """The end of an executor's stdout or stderr, read from the descriptor it wrote to, whatever its path is now."""
    return os.pread(fd, limit, max(0, os.fstat(fd).st_size - limit)).decode("utf-8", errors="replace")


def container_argv(runtime: str, runtime_args: list[str], root: str, mounts: list[str], executor: dict,
                   network: str = "private") -> list[str]:
    """The command that runs one executor: its image, command, workdir, env, network and every mount point bound."""
    command, image = executor["command"], executor["image"]
    apptainer = runtime == "apptainer"
    bind_flag, workdir_flag = ("--bind", "--pwd") if apptainer else ("--volume", "--workdir")
    options = []
    for mount in mounts:
        options += [bind_flag, f"{host_path(root, mount)}:{mount}"]
    for key, value in sorted((executor.get("env") or {}).items()):
        options += ["--env", f"{key}={value}"]
    if executor.get("workdir"):
        options += [workdir_flag, executor["workdir"]]
    flags = NETWORK_FLAGS[runtime][network] + list(runtime_args)
    if apptainer:
        return [runtime, "exec", "--containall", "--no-home", *flags, *options, f"docker://{image}", *command]
    # podman and docker take the same options. The command replaces the image's entrypoint, as TES asks.
    interactive = ["--interactive"] if executor.get("stdin") else []
    return [runtime, "run", "--rm", *flags, "--entrypoint", json.dumps(command[:1]), *options, *interactive,
            image, *command[1:]]


def runtime_env() -> dict[str, str]:
    """The job's environment, with the HOME rootless podman keeps its images under (HTCondor sets none), and the run
    directory all of this user's jobs on the node share."""
    env = dict(os.environ)
    if not env.get("HOME"):
        env["HOME"] = pwd.getpwuid(os.getuid()).pw_dir
    # The pulsar role's pulsar-podman-userns unit makes /run/user/UID and holds podman's user namespace there. Without
    # it podman would fall back to a run directory under this job's TMPDIR, and jobs at once would disturb each other.
    shared = f"/run/user/{os.getuid()}"
    if not env.get("XDG_RUNTIME_DIR") and _private_dir(shared):
        env["XDG_RUNTIME_DIR"] = shared
    env.setdefault("PODMAN_IGNORE_CGROUPSV1_WARNING", "1")  # one line per container in every stderr otherwise
    return env


def _private_dir(path: str) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def pull(runtime: str, image: str, where: str) -> None:
    if runtime == "apptainer":
        return  # apptainer fetches the image as it runs it
    last = ""
    for _attempt in range(PULL_ATTEMPTS):
        done = subprocess.run([runtime, "pull", "--quiet", image], capture_output=True, text=True, check=False,
                              env=runtime_env())
        if done.returncode == 0:
            return
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
    raise SystemFailure(f"{where}.image: {image} cannot be pulled ({last})")


def place_inputs(plan: dict, staged: dict[str, str], root: str) -> None:
    """Puts the inputs in place, before any executor runs (so no link is there yet: the safe opener all the same).
    The data filter keeps a DIRECTORY input's links inside its directory."""
    for i, item in enumerate(plan["inputs"]):
        source, where = staged.get(item["staged"], ""), f"inputs[{i}].path"
        if not os.path.exists(source):
            raise SystemFailure(f"inputs[{i}]: the staged copy {item['staged']} is missing on the endpoint")
        if item["type"] == "DIRECTORY":
            os.close(open_beneath(root, item["path"], DIRECTORY, where, make_dirs=True))
            with tarfile.open(source) as archive:
                archive.extractall(host_path(root, item["path"]), filter="data")
        else:
            target = open_beneath(root, item["path"], WRITE, where, make_dirs=True)
            with open(target, "wb") as dst, open(source, "rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)


def run_executors(plan: dict, root: str, logs_dir: str, entries: list[dict]) -> bool:
    """Runs the executors, adding each one's log to entries; whether one failed without ignore_error (the rest were
    then not run). The runtime's own failure is a SystemFailure, whatever ignore_error says."""
    runtime, limit, network = plan["runtime"], plan["tail_bytes"], plan.get("executor_network", "private")
    for i, executor in enumerate(plan["executors"]):
        pull(runtime, executor["image"], f"executors[{i}]")
        with contextlib.ExitStack() as opened:
            out, err, stdin = (_stream(root, logs_dir, i, executor, name, opened)
                               for name in ("stdout", "stderr", "stdin"))
            argv = container_argv(runtime, plan["runtime_args"], root, plan["mounts"], executor, network)
            entry: dict[str, Any] = {"start_time": now()}
            code = subprocess.run(argv, stdin=stdin, stdout=out, stderr=err, check=False, env=runtime_env()).returncode
            entry.update(end_time=now(), exit_code=code, stdout=tail(out, limit), stderr=tail(err, limit))
        entries.append(entry)
        if code == RUNTIME_FAILED and runtime != "apptainer":
            said = (entry["stderr"].strip().splitlines() or ["no message"])[-1]
            raise SystemFailure(f"executors[{i}]: {runtime} could not run the container ({said})")
        if code != 0 and not executor.get("ignore_error"):
            return True
    return False


def _stream(root: str, logs_dir: str, i: int, executor: dict, name: str, opened: contextlib.ExitStack) -> int:
    """A descriptor for the executor's stdout, stderr (its file under tes-root, or the runner's own in LOGS_DIR) or
    stdin (its file, or /dev/null), closed with OPENED. Each must be a regular file: a FIFO would block the runner."""
    where, path = f"executors[{i}].{name}", executor.get(name)
    if name == "stdin":
        if not path:
            return subprocess.DEVNULL
        try:
            fd = open_beneath(root, path, READ, where)
        except (FileNotFoundError, NotADirectoryError):
            raise SystemFailure(f"{where}: {path} does not exist") from None
    else:
        fd = open_beneath(root, path, WRITE, where) if path else os.open(os.path.join(logs_dir, f"{i}.{name}"), WRITE)
    opened.callback(os.close, fd)
    return regular(fd, f"{where}: {path} is not a regular file")


def run(plan_path: str, tar_path: str, log_path: str, *staged_paths: str) -> dict:
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    root, logs_dir = os.path.abspath(ROOT), os.path.abspath("tes-logs")
    result: dict[str, Any] = {"start_time": now(), "executors": [], "outputs": [], "system_logs": []}
    try:
        for directory in [logs_dir] + [host_path(root, m) for m in plan["mounts"]]:
            os.makedirs(directory, exist_ok=True)
        place_inputs(plan, {os.path.basename(p): os.path.abspath(p) for p in staged_paths}, root)
        failed = run_executors(plan, root, logs_dir, result["executors"])
        result["outcome"] = "EXECUTOR_ERROR" if failed else "COMPLETE"
        result["outputs"] = collect_outputs(plan, root, tar_path)
    except Exception as error:  # pylint: disable=broad-exception-caught  # whatever it is, LOG_JSON is written
        result["outcome"] = "SYSTEM_ERROR" if result.get("outcome") != "EXECUTOR_ERROR" else "EXECUTOR_ERROR"
        known = isinstance(error, (SystemFailure, OSError, tarfile.TarError, subprocess.SubprocessError))
        result["system_logs"].append(str(error) if known else f"{type(error).__name__}: {error}".splitlines()[0])
    if not result["outputs"]:  # none packed, or packing failed half-way
        with tarfile.open(tar_path, "w"):
            pass  # Pulsar expects every declared output
    result["end_time"] = now()
    with open(log_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return result


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: tes_runner.pyz PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]", file=sys.stderr)
        return 2
    result = run(*argv)
    print(json.dumps({"outcome": result["outcome"], "system_logs": result["system_logs"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
