"""The TES 1.1 task, as a client sends it (tesTask and its parts), checked field by field.

Strings must be strings and lists lists: a number where the spec asks for a string is a wrong type, not coerced, so
that a client's mistake comes back as a 400 naming the field. Fields the spec does not name are ignored, as a client
of a newer TES may send them. Output-only fields (id, state, logs, creation_time) are ignored on input.

Sizes are bounded: names, paths, URLs and tags are short texts; commands, env values, descriptions and contents are
bounded by the request body's cap (guard.py); lists and maps have a count each. Every text must be valid UTF-8 (JSON
can carry a lone surrogate, which no store or log can write).

What reaches the execute node's command lines is checked too: a container path (inputs, outputs, path_prefix,
volumes, workdir, stdin, stdout, stderr) has no ':' or ',' (the runtime's --volume syntax), no control character and
no '..' component; an image does not begin with '-' (an option) and has no whitespace; env names are not empty and
hold no '=', and nothing holds a NUL. An image is a registry's (REGISTRY/NAME:TAG, or docker://...): podman's other
transports (dir:, oci-archive:...) would load one from the execute node's own files or image storage.
"""

from __future__ import annotations

import unicodedata
from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

MAX_TEXT = 4096
MAX_EXECUTORS = 64
MAX_FILES = 1024  # inputs, outputs
MAX_ENTRIES = 256  # volumes, tags, env, zones, backend_parameters
# podman's image transports but docker:// (a registry's): they load images from the execute node's paths or storage.
TRANSPORTS = frozenset({"dir", "oci", "oci-archive", "docker-archive", "docker-daemon", "containers-storage", "ostree",
                        "sif"})


def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid UTF-8 text (a lone surrogate)") from None
    return text


LongText = Annotated[StrictStr, AfterValidator(_utf8)]
Text = Annotated[StrictStr, Field(max_length=MAX_TEXT), AfterValidator(_utf8)]

# cpu_cores is an integer in TES 1.1; 1.2 allows fractions, and so does this service (HTCondor's request_cpus rounds up).
Number = Annotated[float, Field(ge=0, strict=True)]
StringMap = Annotated[dict[Text, LongText], Field(max_length=MAX_ENTRIES)]


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


def _container_path(path: str) -> str:
    """A path in the executors' containers: the runtime reads HOST:CONTAINER[:OPTION,...] in its --volume option, and
    the runner lays every path out beneath its own directory."""
    for separator in ":,":
        if separator in path:
            raise ValueError(f"must not contain '{separator}'")
    if _has_control(path):
        raise ValueError("must not contain control characters")
    if ".." in path.split("/"):
        raise ValueError("must not have a '..' component")
    return path


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _image(image: str) -> str:
    """An image the runtime cannot take for one of its options, nor split into several arguments, nor load from the
    node (a transport: podman reads `WORD:` as one whatever follows, so `oci:5000/x` is refused too)."""
    if image.startswith("-"):
        raise ValueError("must not begin with '-'")
    if any(c.isspace() for c in image) or _has_control(image):
        raise ValueError("must not contain whitespace or control characters")
    prefix, colon, _rest = image.partition(":")
    if colon and prefix.lower() in TRANSPORTS:
        raise ValueError(f"'{prefix}:' names an image transport; give a registry image (REGISTRY/NAME:TAG)")
    return image


def _no_nul(text: str) -> str:
    if "\0" in text:
        raise ValueError("must not contain NUL")
    return text


def _env(env: dict[str, str]) -> dict[str, str]:
    """Names and values a process's environment can hold (NAME=VALUE, NUL-terminated)."""
    for name, value in env.items():
        if not name:
            raise ValueError("a name must not be empty")
        if "=" in name or "\0" in name:
            raise ValueError(f"{name!r} must not contain '=' or NUL")
        if "\0" in value:
            raise ValueError(f"the value of {name!r} must not contain NUL")
    return env


ContainerPath = Annotated[Text, AfterValidator(_container_path)]
AbsolutePath = Annotated[ContainerPath, AfterValidator(_absolute)]


class Input(_Part):
    name: Text | None = None
    description: LongText | None = None
    url: Text | None = None
    path: AbsolutePath
    type: FileType = FileType.FILE
    content: LongText | None = None
    streamable: StrictBool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Input:
        if (self.url is None) == (self.content is None):
            raise ValueError("give exactly one of url and content")
        if self.content is not None and self.type is not FileType.FILE:
            raise ValueError("content makes a FILE, not a DIRECTORY")
        return self


class Output(_Part):
    name: Text | None = None
    description: LongText | None = None
    url: Text
    path: AbsolutePath
    path_prefix: ContainerPath | None = None
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
    zones: Annotated[list[Text], Field(max_length=MAX_ENTRIES)] | None = None
    backend_parameters: StringMap | None = None
    backend_parameters_strict: StrictBool | None = None


class Executor(_Part):
    image: Annotated[Text, Field(min_length=1), AfterValidator(_image)]
    command: Annotated[list[Annotated[LongText, AfterValidator(_no_nul)]], Field(min_length=1, max_length=MAX_FILES)]
    workdir: ContainerPath | None = None
    stdin: ContainerPath | None = None
    stdout: ContainerPath | None = None
    stderr: ContainerPath | None = None
    env: Annotated[StringMap, AfterValidator(_env)] | None = None
    ignore_error: StrictBool | None = None


class Task(_Part):
    """A task as submitted (POST /tasks)."""

    name: Text | None = None
    description: LongText | None = None
    inputs: Annotated[list[Input], Field(max_length=MAX_FILES)] = []
    outputs: Annotated[list[Output], Field(max_length=MAX_FILES)] = []
    resources: Resources | None = None
    executors: Annotated[list[Executor], Field(min_length=1, max_length=MAX_EXECUTORS)]
    volumes: Annotated[list[AbsolutePath], Field(max_length=MAX_ENTRIES)] = []
    tags: StringMap = {}
