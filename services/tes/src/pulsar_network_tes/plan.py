"""What runner.py does with a task: its mount points, where each staged input goes, the executors and the outputs.

Every container path a task names (its volumes, its inputs and outputs, the executors' stdin, stdout and stderr) must
lie under a directory that is bound into every executor's container, so that what one executor writes the next one
and the output collection see. The mount points are the smallest set of directories that covers them all: a file's
parent directory, a directory itself, a wildcard's path_prefix. The container's root cannot be one of them.
"""

from __future__ import annotations

import posixpath
from typing import Any

from .runner_outputs import MAX_OUTPUT_BYTES, MAX_OUTPUT_FILES

WILDCARD = "*?["


class PlanError(ValueError):
    """A task whose paths cannot be laid out; the message names the field."""


def _mount_point(field: str, path: str, is_dir: bool) -> str:
    point = posixpath.normpath(path if is_dir else posixpath.dirname(path))
    if point == "/":
        raise PlanError(f"{field}: {path} is at the container's root; put it in a directory")
    return point


def mount_points(task: dict[str, Any]) -> list[str]:
    wanted = []
    for i, volume in enumerate(task.get("volumes") or []):
        wanted.append(_mount_point(f"volumes[{i}]", volume, True))
    for i, item in enumerate(task.get("inputs") or []):
        wanted.append(_mount_point(f"inputs[{i}].path", item["path"], item.get("type") == "DIRECTORY"))
    for i, item in enumerate(task.get("outputs") or []):
        if any(c in item["path"] for c in WILDCARD):
            prefix = item["path_prefix"]
            if not item["path"].startswith(prefix):
                raise PlanError(f"outputs[{i}].path_prefix: {item['path']} does not start with {prefix}")
            wanted.append(_mount_point(f"outputs[{i}].path_prefix", prefix, True))
        else:
            wanted.append(_mount_point(f"outputs[{i}].path", item["path"], item.get("type") == "DIRECTORY"))
    for i, executor in enumerate(task["executors"]):
        for stream in ("stdin", "stdout", "stderr"):
            if executor.get(stream):
                if not executor[stream].startswith("/"):
                    raise PlanError(f"executors[{i}].{stream}: must be an absolute path")
                wanted.append(_mount_point(f"executors[{i}].{stream}", executor[stream], False))
    # A directory under another mount point is already shared through it.
    unique = sorted(set(wanted))
    return [p for p in unique if not any(p.startswith(other + "/") for other in unique if other != p)]


def staged_name(index: int) -> str:
    return f"tes-input-{index}"


def build(task: dict[str, Any], runtime: str, runtime_args: list[str], tail_bytes: int,
          executor_network: str = "private", *, max_output_bytes: int = MAX_OUTPUT_BYTES,
          max_output_files: int = MAX_OUTPUT_FILES) -> dict[str, Any]:
    """The plan runner.py reads; raises PlanError naming the field when the task's paths cannot be laid out.
    MAX_OUTPUT_BYTES and MAX_OUTPUT_FILES bound what the runner packs of the outputs (apparent sizes, every file)."""
    return {
        "runtime": runtime,
        "executor_network": executor_network,
        "max_output_bytes": max_output_bytes,
        "max_output_files": max_output_files,
        "runtime_args": list(runtime_args),
        "tail_bytes": tail_bytes,
        "mounts": mount_points(task),
        "inputs": [{"staged": staged_name(i), "path": item["path"], "type": item.get("type", "FILE")}
                   for i, item in enumerate(task.get("inputs") or [])],
        "executors": task["executors"],
        "outputs": [{k: item[k] for k in ("path", "type", "path_prefix") if k in item}
                    for item in task.get("outputs") or []],
    }
