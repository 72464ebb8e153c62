"""The TES 1.1 task, as a client sends it (tesTask and its parts), checked field by field.

Strings must be strings and lists lists: a number where the spec asks for a string is a wrong type, not coerced, so
that a client's mistake comes back as a 400 naming the field. Fields the spec does not name are ignored, as a client
of a newer TES may send them. Output-only fields (id, state, logs, creation_time) are ignored on input.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

# cpu_cores is an integer in TES 1.1; 1.2 allows fractions, and so does this service (HTCondor's request_cpus rounds up).
Number = Annotated[float, Field(ge=0, strict=True)]
StringMap = dict[StrictStr, StrictStr]


class State(str, Enum):
    UNKNOWN = "UNKNOWN"
    QUEUED = "QUEUED"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETE = "COMPLETE"
    EXECUTOR_ERROR = "EXECUTOR_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    CANCELED = "CANCELED"
    PREEMPTED = "PREEMPTED"
    CANCELING = "CANCELING"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.COMPLETE, State.EXECUTOR_ERROR, State.SYSTEM_ERROR, State.CANCELED, State.PREEMPTED})


class View(str, Enum):
    MINIMAL = "MINIMAL"
    BASIC = "BASIC"
    FULL = "FULL"


class FileType(str, Enum):
    FILE = "FILE"
    DIRECTORY = "DIRECTORY"


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("must be an absolute path")
    return path


AbsolutePath = Annotated[StrictStr, AfterValidator(_absolute)]


class Input(_Part):
    name: StrictStr | None = None
    description: StrictStr | None = None
    url: StrictStr | None = None
    path: AbsolutePath
    type: FileType = FileType.FILE
    content: StrictStr | None = None
    streamable: StrictBool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Input:
        if (self.url is None) == (self.content is None):
            raise ValueError("give exactly one of url and content")
        if self.content is not None and self.type is not FileType.FILE:
            raise ValueError("content makes a FILE, not a DIRECTORY")
        return self


class Output(_Part):
    name: StrictStr | None = None
    description: StrictStr | None = None
    url: StrictStr
    path: AbsolutePath
    path_prefix: StrictStr | None = None
    type: FileType = FileType.FILE

    @model_validator(mode="after")
    def _wildcard_prefix(self) -> Output:
        if any(c in self.path for c in "*?[") and not self.path_prefix:
            raise ValueError("a wildcard path needs path_prefix")
        return self


class Resources(_Part):
    cpu_cores: Number | None = None
    preemptible: StrictBool | None = None
    ram_gb: Number | None = None
    disk_gb: Number | None = None
    zones: list[StrictStr] | None = None
    backend_parameters: StringMap | None = None
    backend_parameters_strict: StrictBool | None = None


class Executor(_Part):
    image: Annotated[StrictStr, Field(min_length=1)]
    command: Annotated[list[StrictStr], Field(min_length=1)]
    workdir: StrictStr | None = None
    stdin: StrictStr | None = None
    stdout: StrictStr | None = None
    stderr: StrictStr | None = None
    env: StringMap | None = None
    ignore_error: StrictBool | None = None


class Task(_Part):
    """A task as submitted (POST /tasks)."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    inputs: list[Input] = []
    outputs: list[Output] = []
    resources: Resources | None = None
    executors: Annotated[list[Executor], Field(min_length=1)]
    volumes: list[AbsolutePath] = []
    tags: StringMap = {}
