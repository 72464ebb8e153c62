"""Structured logs: one JSON object a line on stderr (journald keeps them), never a credential."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

log = logging.getLogger("pulsar_network_tes")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": round(record.created, 3), "level": record.levelname.lower(),
                                 "event": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def event(name: str, **fields: Any) -> None:
    log.info(name, extra={"fields": fields})
