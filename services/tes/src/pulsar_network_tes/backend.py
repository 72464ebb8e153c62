"""What runs a task: the service stores it, then hands it to a backend, which reports back through the store."""

from __future__ import annotations

from typing import Any, Protocol


class Backend(Protocol):
    def problem(self, task: dict[str, Any], owner: str) -> str | None:
        """Why the backend could never run this task for this user (a path or URL it cannot serve, a path outside
        the user's storage areas), naming the field; or None. Asked before the task is stored, so such a task is
        refused with 400."""

    def submit(self, task: dict[str, Any]) -> None:
        """Send a stored, QUEUED task to an endpoint. Progress and the end come back as store updates."""

    def cancel(self, task: dict[str, Any]) -> None:
        """Stop a task the store has marked CANCELING; the backend marks it CANCELED once it is gone."""
