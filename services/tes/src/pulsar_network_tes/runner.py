"""Runs one TES task's executors on an HTCondor execute node: the command line of the task's Pulsar job.

    python3 tes_runner.py PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]

The service writes PLAN (plan.py) and sends this file with it as the job's inputs; Pulsar stages both, and the
task's inputs, onto the endpoint. The inputs are named on the command line because Pulsar stages only the input
files the command line mentions, and rewrites each to where it put it. In the job's working directory this script
- lays out `tes-root/`, one host directory per mount point of the plan, and puts the inputs there;
- runs the executors in order, each in its image with a container runtime (podman, docker or apptainer), every mount
  point bound at its container path, so volumes, inputs and outputs are shared between executors, on the network
  the plan names (NETWORK_FLAGS); a non-zero exit stops the task unless the executor has ignore_error;
- packs the outputs (files, directories, wildcard matches) into OUTPUTS_TAR and writes LOG_JSON: each executor's
  times, exit code and the tail of its stdout and stderr, the outputs with their sizes, and the outcome.

Executors write in the mount points' directories and may leave symbolic links there to any file of the node. Nothing
the runner does under tes-root follows one (open_beneath): a link where the task names a file or directory (stdin,
stdout, stderr, an output) is a system error naming the field; links inside a DIRECTORY output or matched by a
wildcard are left out of the outputs. Files are read and written through the descriptors opened so, never their
paths again, and only regular files are (a FIFO, socket or device node is refused, never opened where the task names
a file). Names that are not UTF-8 are left out too. The outputs are bounded, as executors could make them huge for
nothing (hard links, sparse files, empty files): max_output_files files, max_output_bytes bytes (the files' apparent
sizes, a hard link's each time), directories MAX_DEPTH levels deep; past any of these the task is a system error.

Pulsar sends both files back to the service. This script exits 0 whenever it could write LOG_JSON; a failure of its
own (an image that cannot be pulled, an output not produced, or any unexpected error) is recorded there as a system
error. It imports only the standard library, for the execute nodes' own python3.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import json
import os
import posixpath
import pwd
import shutil
import stat
import subprocess
import sys
import tarfile
from typing import Any, Iterator

ROOT = "tes-root"
PULL_ATTEMPTS = 3
# podman's and docker's own failure (the runtime, not the command in the container): `podman run --help` documents it.
RUNTIME_FAILED = 125
WILDCARD = "*?["
MAX_DEPTH = 64  # levels of directories in a DIRECTORY output, or components of a wildcard after its first wildcard
# The plan's max_output_bytes and max_output_files when it has none (config.BackendSettings' defaults).
MAX_OUTPUT_BYTES = 10 * 1024**3
MAX_OUTPUT_FILES = 10000
# How the runner opens what lies under tes-root, where executors write: never through a symbolic link (O_NOFOLLOW), and
# never waiting on a FIFO an executor left there (O_NONBLOCK; set back to blocking once the file is known regular).
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
WRITE = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC  # read back for the tail
# backend.executor_network, as each runtime is told it. private: a network of the container's own, without the node's
# (docker's default bridge; apptainer's --network=none leaves only the container's loopback).
NETWORK_FLAGS: dict[str, dict[str, list[str]]] = {
    "podman": {"private": ["--network=private"], "none": ["--network=none"], "host": ["--network=host"]},
    "docker": {"private": [], "none": ["--network=none"], "host": ["--network=host"]},
    "apptainer": {"private": ["--net", "--network=none"], "none": ["--net", "--network=none"], "host": []},
}


class SystemFailure(Exception):
    """A failure that is not the executors' own: the task ends SYSTEM_ERROR with this reason."""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def host_path(root: str, path: str) -> str:
    """Where a container path under one of the plan's mount points lives in this job's directory."""
    return os.path.join(root, os.path.normpath(path).lstrip("/"))


def open_beneath(root: str, path: str, flags: int, where: str, make_dirs: bool = False) -> int:
    """A descriptor of the container path PATH in its host directory under ROOT, reached without following a link.

    Executors can leave symbolic links anywhere under their mount points, pointing at any file of the node. So each
    directory on the way is opened relative to the one before with O_NOFOLLOW, and the last component with FLAGS
    (which hold O_NOFOLLOW); a link met is a SystemFailure naming WHERE, and so is a last component, opened as a file,
    that exists and is not a regular file (a device node is not even opened). MAKE_DIRS creates the missing
    directories on the way, and the last one when FLAGS ask for a directory. Other errors (FileNotFoundError...) are
    the caller's."""
    names = [name for name in posixpath.normpath(path).split("/") if name]
    if ".." in names:
        raise SystemFailure(f"{where}: {path} climbs out of its directory")
    fd = os.open(root, DIRECTORY)
    try:
        for depth, name in enumerate(names):
            last = depth == len(names) - 1
            if make_dirs and (not last or flags & os.O_DIRECTORY):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, dir_fd=fd)
            if last and not flags & os.O_DIRECTORY:
                _refuse_special(fd, name, f"{where}: {path}")
            try:
                opened = os.open(name, flags if last else DIRECTORY, 0o644, dir_fd=fd)
            except OSError:
                if _is_link(fd, name):
                    link = "/" + "/".join(names[:depth + 1])
                    raise SystemFailure(f"{where}: {link} is a symbolic link; the runner follows none") from None
                raise
            os.close(fd)
            fd = opened
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_special(dir_fd: int, name: str, what: str) -> None:
    """A SystemFailure when NAME exists in DIR_FD and is neither a regular file nor a link (open_beneath's error)."""
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise SystemFailure(f"{what} is not a regular file")


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _regular(fd: int, message: str) -> int:
    """FD, when it is a regular file (then blocking again); a SystemFailure with MESSAGE otherwise."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise SystemFailure(message)
    os.set_blocking(fd, True)
    return fd


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
    return _regular(fd, f"{where}: {path} is not a regular file")


def collect_outputs(plan: dict, root: str, tar_path: str) -> list[dict]:
    """Pack every output into TAR_PATH as o<index>/<relative path>; the manifest lists each file with its size. More
    than the plan's max_output_files files, or max_output_bytes bytes, is a SystemFailure (the archive unfinished)."""
    max_files = plan.get("max_output_files", MAX_OUTPUT_FILES)
    max_bytes = plan.get("max_output_bytes", MAX_OUTPUT_BYTES)
    manifest, total = [], 0
    with tarfile.open(tar_path, "w") as archive:
        for i, output in enumerate(plan["outputs"]):
            for relative, fd in _output_files(i, output, root):
                info = os.fstat(fd)
                total += info.st_size  # apparent: a sparse file, or a file linked many times, is packed in full
                if len(manifest) >= max_files:
                    raise SystemFailure(f"outputs: more than {max_files} files")
                if total > max_bytes:
                    raise SystemFailure(f"outputs: more than {max_bytes} bytes")
                member = tarfile.TarInfo(f"o{i}/{relative}" if relative else f"o{i}")
                member.size, member.mtime, member.mode = info.st_size, int(info.st_mtime), stat.S_IMODE(info.st_mode)
                with open(fd, "rb", closefd=False) as handle:  # the file opened, not whatever its path is now
                    archive.addfile(member, handle)
                manifest.append({"index": i, "relative": relative, "size_bytes": info.st_size})
    return manifest


def _output_files(i: int, output: dict, root: str) -> Iterator[tuple[str, int]]:
    """An output's regular files as (path under the output, or under path_prefix for a wildcard; descriptor), each
    descriptor open while its file is added. A link where the output is named is a SystemFailure; links inside a
    DIRECTORY output or matched by a wildcard are left out."""
    path, where = output["path"], f"outputs[{i}].path"
    if output.get("path_prefix"):
        yield from _matches(root, path, output["path_prefix"], where)
        return
    kind = "directory" if output["type"] == "DIRECTORY" else "file"
    try:
        fd = open_beneath(root, path, DIRECTORY if kind == "directory" else READ, where)
    except (FileNotFoundError, NotADirectoryError):
        raise SystemFailure(f"{where}: the {kind} {path} was not produced") from None
    try:
        if kind == "directory":
            yield from _walk(fd, f"{where}: {path} holds directories more than {MAX_DEPTH} levels deep")
        else:
            yield "", _regular(fd, f"{where}: the file {path} was not produced")
    finally:
        os.close(fd)


def _entries(dir_fd: int, pattern: str | None = None) -> Iterator[tuple[str, int, bool]]:
    """The directories and regular files in the directory DIR_FD whose names match PATTERN (as glob matched them), in
    name order, as (name, descriptor, is a directory). Links, FIFOs, sockets, device nodes and names that are not UTF-8
    (which os.listdir gives surrogate-escaped, and the service could not deliver) are left out, never opened."""
    for name in sorted(os.listdir(dir_fd)):
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            continue
        if pattern is not None and not (fnmatch.fnmatchcase(name, pattern)
                                        and (pattern.startswith(".") or not name.startswith("."))):
            continue
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            continue
        fd = os.open(name, READ, dir_fd=dir_fd)  # and its type checked again: it may have changed since
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                os.set_blocking(fd, True)
                yield name, fd, stat.S_ISDIR(mode)
        finally:
            os.close(fd)


def _walk(dir_fd: int, too_deep: str, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, int]]:
    """The regular files under DIR_FD, at most MAX_DEPTH directories down; deeper is a SystemFailure saying TOO_DEEP."""
    for name, fd, is_dir in _entries(dir_fd):
        if is_dir:
            if depth == MAX_DEPTH:
                raise SystemFailure(too_deep)
            yield from _walk(fd, too_deep, f"{prefix}{name}/", depth + 1)
        else:
            yield prefix + name, fd


def _matches(root: str, pattern: str, path_prefix: str, where: str) -> Iterator[tuple[str, int]]:
    """The regular files a wildcard path names, matched a component at a time as glob did ('*' stays within one, and
    matches a leading '.' only when the pattern's component starts with one), from its first component that has a
    wildcard (the directories before it are the output's own: a link there is a SystemFailure)."""
    names = [name for name in posixpath.normpath(pattern).split("/") if name]
    fixed = next((k for k, name in enumerate(names) if any(c in name for c in WILDCARD)), len(names) - 1)
    if len(names) - fixed > MAX_DEPTH:
        raise SystemFailure(f"{where}: {pattern} has more than {MAX_DEPTH} components after its first wildcard")
    try:
        start = open_beneath(root, "/" + "/".join(names[:fixed]), DIRECTORY, where)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        for relative, fd in _match(start, names[fixed:]):
            yield posixpath.relpath(posixpath.join("/", *names[:fixed], relative), posixpath.normpath(path_prefix)), fd
    finally:
        os.close(start)


def _match(dir_fd: int, patterns: list[str], prefix: str = "") -> Iterator[tuple[str, int]]:
    for name, fd, is_dir in _entries(dir_fd, patterns[0]):
        if is_dir and len(patterns) > 1:
            yield from _match(fd, patterns[1:], f"{prefix}{name}/")
        elif not is_dir and len(patterns) == 1:
            yield prefix + name, fd


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
        print("usage: tes_runner.py PLAN OUTPUTS_TAR LOG_JSON [STAGED_INPUT...]", file=sys.stderr)
        return 2
    result = run(*argv)
    print(json.dumps({"outcome": result["outcome"], "system_logs": result["system_logs"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
