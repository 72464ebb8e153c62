"""The three views of a task the spec defines (the `view` parameter of GET /tasks and GET /tasks/{id})."""

from __future__ import annotations

import copy
from typing import Any

from .models import View


def render(document: dict[str, Any], view: View) -> dict[str, Any]:
    """MINIMAL: id and state only. BASIC: everything but executor stdout/stderr, input content and system logs.
    FULL: everything."""
    if view is View.MINIMAL:
        return {"id": document["id"], "state": document["state"]}
    if view is View.FULL:
        return document
    basic = copy.deepcopy(document)
    for item in basic.get("inputs") or []:
        item.pop("content", None)
    for task_log in basic.get("logs") or []:
        task_log.pop("system_logs", None)
        for executor_log in task_log.get("logs") or []:
            executor_log.pop("stdout", None)
            executor_log.pop("stderr", None)
    return basic
