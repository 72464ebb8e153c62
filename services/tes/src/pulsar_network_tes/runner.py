"""Runs one TES task's executors on an HTCondor execute node: the command line of the task's Pulsar job.

    python3 tes_runner.py PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]

The service writes PLAN (plan.py) and sends this file with it as the job's inputs; Pulsar stages both, and the
task's inputs, onto the endpoint. The inputs are named on the command line because Pulsar stages only the input
files the command line mentions, and rewrites each to where it put it. In the job's working directory this script
- lays out `tes-root/`, one host directory per mount point of the plan, and puts the inputs there;
- runs the executors in order, each in its image with a container runtime (podman, docker or apptainer), every mount
  point bound at its container path, so volumes, inputs and outputs are shared between executors; a non-zero exit
  stops the task unless the executor has ignore_error;
- packs the outputs (files, directories, wildcard matches) into OUTPUTS_TAR and writes LOG_JSON: each executor's
  times, exit code and the tail of its stdout and stderr, the outputs with their sizes, and the outcome.

Pulsar sends both files back to the service. This script exits 0 whenever it could write LOG_JSON; a failure of its
own (an image that cannot be pulled, an output not produced) is recorded there as a system error. It imports only
the standard library, for the execute nodes' own python3.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import pwd
import stat
import subprocess
import sys
import tarfile
from typing import Any

ROOT = "tes-root"
PULL_ATTEMPTS = 3
# podman's and docker's own failure (the runtime, not the command in the container): `podman run --help` documents it.
RUNTIME_FAILED = 125


class SystemFailure(Exception):
    """A failure that is not the executors' own: the task ends SYSTEM_ERROR with this reason."""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def host_path(root: str, path: str) -> str:
    """Where a container path under one of the plan's mount points lives in this job's directory."""
    return os.path.join(root, os.path.normpath(path).lstrip("/"))


def tail(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - limit))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def container_argv(runtime: str, runtime_args: list[str], root: str, mounts: list[str], executor: dict) -> list[str]:
    """The command that runs one executor: its image, command, workdir, env and every mount point bound."""
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
    if apptainer:
        return [runtime, "exec", "--containall", "--no-home", *runtime_args, *options, f"docker://{image}", *command]
    # podman and docker take the same options. The command replaces the image's entrypoint, as TES asks.
    interactive = ["--interactive"] if executor.get("stdin") else []
    return [runtime, "run", "--rm", *runtime_args, "--entrypoint", json.dumps(command[:1]), *options, *interactive,
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
    for i, item in enumerate(plan["inputs"]):
        source, target = staged.get(item["staged"], ""), host_path(root, item["path"])
        if not os.path.exists(source):
            raise SystemFailure(f"inputs[{i}]: the staged copy {item['staged']} is missing on the endpoint")
        if item["type"] == "DIRECTORY":
            os.makedirs(target, exist_ok=True)
            with tarfile.open(source) as archive:
                archive.extractall(target, filter="data")
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(source, "rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)


def run_executors(plan: dict, root: str, logs_dir: str, entries: list[dict]) -> bool:
    """Runs the executors, adding each one's log to entries; whether one failed without ignore_error (the rest were
    then not run). The runtime's own failure is a SystemFailure, whatever ignore_error says."""
    runtime, limit = plan["runtime"], plan["tail_bytes"]
    for i, executor in enumerate(plan["executors"]):
        pull(runtime, executor["image"], f"executors[{i}]")
        out_path, err_path = os.path.join(logs_dir, f"{i}.stdout"), os.path.join(logs_dir, f"{i}.stderr")
        if executor.get("stdout"):
            out_path = host_path(root, executor["stdout"])
        if executor.get("stderr"):
            err_path = host_path(root, executor["stderr"])
        stdin = open(host_path(root, executor["stdin"]), "rb") if executor.get("stdin") else subprocess.DEVNULL
        entry: dict[str, Any] = {"start_time": now()}
        try:
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                code = subprocess.run(container_argv(runtime, plan["runtime_args"], root, plan["mounts"], executor),
                                      stdin=stdin, stdout=out, stderr=err, check=False, env=runtime_env()).returncode
        finally:
            if stdin is not subprocess.DEVNULL:
                stdin.close()
        entry.update(end_time=now(), exit_code=code, stdout=tail(out_path, limit), stderr=tail(err_path, limit))
        entries.append(entry)
        if code == RUNTIME_FAILED and runtime != "apptainer":
            said = (entry["stderr"].strip().splitlines() or ["no message"])[-1]
            raise SystemFailure(f"executors[{i}]: {runtime} could not run the container ({said})")
        if code != 0 and not executor.get("ignore_error"):
            return True
    return False


def collect_outputs(plan: dict, root: str, tar_path: str) -> list[dict]:
    """Pack every output into TAR_PATH as o<index>/<relative path>; the manifest lists each file with its size."""
    manifest = []
    with tarfile.open(tar_path, "w") as archive:
        for i, output in enumerate(plan["outputs"]):
            found = _output_files(i, output, root)
            for relative, source in found:
                archive.add(source, arcname=f"o{i}/{relative}" if relative else f"o{i}", recursive=False)
                manifest.append({"index": i, "relative": relative, "size_bytes": os.path.getsize(source)})
    return manifest


def _output_files(i: int, output: dict, root: str) -> list[tuple[str, str]]:
    path = output["path"]
    if output.get("path_prefix"):
        prefix = host_path(root, output["path_prefix"])
        matches = sorted(glob.glob(host_path(root, path)))
        return [(os.path.relpath(m, prefix), m) for m in matches if os.path.isfile(m)]
    source = host_path(root, path)
    if output["type"] == "DIRECTORY":
        if not os.path.isdir(source):
            raise SystemFailure(f"outputs[{i}].path: the directory {path} was not produced")
        return [(os.path.relpath(os.path.join(d, f), source), os.path.join(d, f))
                for d, _dirs, files in sorted(os.walk(source)) for f in sorted(files)]
    if not os.path.isfile(source):
        raise SystemFailure(f"outputs[{i}].path: the file {path} was not produced")
    return [("", source)]


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
    except (SystemFailure, OSError, tarfile.TarError, subprocess.SubprocessError) as error:
        result["outcome"] = "SYSTEM_ERROR" if result.get("outcome") != "EXECUTOR_ERROR" else "EXECUTOR_ERROR"
        result["system_logs"].append(str(error))
    if not os.path.exists(tar_path):
        with tarfile.open(tar_path, "w"):
            pass  # Pulsar expects every declared output
    result["end_time"] = now()
    with open(log_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return result


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: tes_runner.py PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]", file=sys.stderr)
        return 2
    result = run(*argv)
    print(json.dumps({"outcome": result["outcome"], "system_logs": result["system_logs"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
