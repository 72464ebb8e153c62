"""A task's one log in the store: TES keeps a list of logs, one per attempt, and this service tries each task once."""

from __future__ import annotations

from typing import Any

from .store import TaskStore


def task_log(task: dict[str, Any]) -> dict[str, Any]:
    """The task's one log, or an empty one."""
    return (task.get("logs") or [{}])[0] or {}


def metadata(task: dict[str, Any]) -> dict[str, str]:
    return task_log(task).get("metadata") or {}


def update_log(store: TaskStore, task_id: str, **fields: Any) -> None:
    """Merge fields into the task's one log: metadata key by key, the others replaced unless None."""
    found = store.get(task_id)
    if found is None:
        return
    merged = dict(task_log(found[1]))
    for key, value in fields.items():
        if key == "metadata":
            merged["metadata"] = {**merged.get("metadata", {}), **value}
        elif value is not None:
            merged[key] = value
    merged.setdefault("logs", [])
    merged.setdefault("outputs", [])
    store.update(task_id, logs=[merged])
