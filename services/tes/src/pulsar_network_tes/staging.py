"""A task's files on the TES host: its inputs gathered before Pulsar stages them, its outputs delivered after.

Each task has a job directory laid out as Galaxy lays out its jobs (inputs, outputs, working, metadata, tool), from
which Pulsar downloads the inputs and into which it uploads the outputs (the job files API, files_api.py).

Inputs come from `content`, from `http(s)://` URLs (downloaded here, from the addresses the operator allows only:
fetch.py) and from `file://` paths. A DIRECTORY input goes as one tar file. Outputs go to `file://` URLs, or are
uploaded with HTTP PUT to `https://` URLs (fetch.py again); a directory or wildcard output is one URL per file, the
output's `url` followed by the file's path under it.

`file://` paths are the task owner's: each user has an area of their own under each storage root, `<root>/<user
name>/`, where their tasks read inputs and write outputs, and no other user's task does (the role makes the areas).
Directories listed in `backend.shared_storage` (under a root) are read by every user's tasks, as inputs only; no output
goes there. Nothing else of the host is reached: a path is resolved (symlinks and `..`) before it is checked, so a
symlink in one's area to another user's file is refused. Admins have their own area only: seeing every task gives no
access to other users' files. Paths are checked when a task is submitted (400, naming the field) and again when its
inputs are gathered and its outputs delivered.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import urllib.parse
from typing import IO, Any, Literal

from . import logs
from .fetch import CHUNK, Fetcher, FetchError, Policy, redact
from .plan import staged_name


class StagingError(Exception):
    """An input that cannot be fetched or an output that cannot be delivered; the message names the field."""


class Staging:
    def __init__(self, work_dir: str, storage_roots: tuple[str, ...], max_input_bytes: int,
                 shared_storage: tuple[str, ...] = (), fetcher: Fetcher | None = None) -> None:
        self.work_dir = os.path.realpath(work_dir)
        self.roots = tuple(os.path.realpath(r) for r in storage_roots)
        self.shared = tuple(os.path.realpath(d) for d in shared_storage)
        self.max_input_bytes = max_input_bytes
        self.fetcher = fetcher or Fetcher(Policy())

    def job_dir(self, task_id: str) -> str:
        return os.path.join(self.work_dir, task_id)

    def areas(self, owner: str) -> tuple[str, ...]:
        """The user's own directory under each storage root; none for a name that is not one plain path component."""
        if owner in ("", ".", "..") or "/" in owner or "\0" in owner:
            return ()
        return tuple(os.path.realpath(os.path.join(root, owner)) for root in self.roots)

    def local_path(self, field: str, url: str, owner: str, direction: Literal["input", "output"]) -> str:
        """The path of a file:// URL, which must lie in the owner's areas (or, for an input, a shared directory)."""
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            raise StagingError(f"{field}: file:// URLs name a path on the TES host, not host {parsed.hostname}")
        if "\0" in (unquoted := urllib.parse.unquote(parsed.path)):  # no path has one (realpath would raise)
            raise StagingError(f"{field}: the path contains a NUL")
        path = os.path.realpath(unquoted)  # first: the check sees where a symlink leads
        places = self.areas(owner) + (self.shared if direction == "input" else ())
        if not _under(path, places) or (direction == "output" and _under(path, self.shared)):
            raise StagingError(f"{field}: {path} is outside your storage areas ({', '.join(places) or 'none'})")
        return path

    def check_urls(self, task: dict[str, Any], owner: str) -> str | None:
        """The first input or output URL this service cannot serve, as a one-line reason; None when all can."""
        for kind in ("inputs", "outputs"):
            for i, item in enumerate(task.get(kind) or []):
                url = item.get("url")
                if url is None:
                    continue
                scheme = urllib.parse.urlsplit(url).scheme
                allowed = ("file", "http", "https") if kind == "inputs" else ("file", "https")
                if scheme not in allowed:
                    return f"{kind}[{i}].url: {scheme or 'no'} scheme; this service takes {', '.join(allowed)}"
                if scheme == "file":
                    try:
                        self.local_path(f"{kind}[{i}].url", url, owner, "input" if kind == "inputs" else "output")
                    except StagingError as error:
                        return str(error)
        return None

    def gather_inputs(self, task: dict[str, Any], owner: str) -> list[str]:
        """Write each input into the job's inputs directory; return their paths (what Pulsar stages)."""
        inputs_dir = os.path.join(self.job_dir(task["id"]), "inputs")
        os.makedirs(inputs_dir, exist_ok=True)
        paths = []
        for i, item in enumerate(task.get("inputs") or []):
            target = os.path.join(inputs_dir, staged_name(i))
            field = f"inputs[{i}].url"
            if "content" in item:
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(item["content"])
            elif urllib.parse.urlsplit(item["url"]).scheme == "file":
                source = self.local_path(field, item["url"], owner, "input")
                if item.get("type") == "DIRECTORY":
                    if not os.path.isdir(source):
                        raise StagingError(f"{field}: {source} is not a directory")
                    with tarfile.open(target, "w") as archive:
                        archive.add(source, arcname=".")
                elif not os.path.isfile(source):
                    raise StagingError(f"{field}: {source} is not a file")
                else:
                    shutil.copyfile(source, target)
            else:
                if item.get("type") == "DIRECTORY":
                    raise StagingError(f"{field}: a DIRECTORY input must be a file:// URL")
                self._download(task["id"], field, item["url"], target, owner)
            paths.append(target)
        return paths

    def _download(self, task_id: str, field: str, url: str, target: str, owner: str) -> None:
        try:
            with open(target, "wb") as out:
                self.fetcher.download(url, out, owner, self.max_input_bytes)
        except FetchError as error:  # the owner is told the reason; the log has the detail, never the credentials
            logs.event("input_not_fetched", task=task_id, field=field, url=redact(url), reason=error.reason,
                       detail=error.detail)
            raise StagingError(f"{field}: cannot be fetched ({error.reason})") from None

    def deliver_outputs(self, task: dict[str, Any], owner: str, tar_path: str,
                        manifest: list[dict]) -> list[dict[str, str]]:
        """Put each output file where its URL says; the task log's outputs (url, path, size_bytes)."""
        outputs = task.get("outputs") or []
        delivered = []
        with tarfile.open(tar_path) as archive:
            # Read once, by name (the last of a name wins, as in extractfile(name), which would read the list each time).
            members = {member.name: member for member in archive}
            for entry in manifest:
                output = outputs[entry["index"]]
                relative = entry["relative"]
                url = output["url"] if not relative else output["url"].rstrip("/") + "/" + urllib.parse.quote(relative)
                found = members.get(f"o{entry['index']}/{relative}" if relative else f"o{entry['index']}")
                member = archive.extractfile(found) if found is not None else None
                if member is None:
                    raise StagingError(f"outputs[{entry['index']}]: {relative or output['path']} is not a file")
                with member:
                    self._put(task["id"], f"outputs[{entry['index']}].url", url, member, owner)
                path = (posix_join(output.get("path_prefix") or output["path"], relative) if relative else output["path"])
                delivered.append({"url": url, "path": path, "size_bytes": str(entry["size_bytes"])})
        return delivered

    def _put(self, task_id: str, field: str, url: str, stream: IO[bytes], owner: str) -> None:
        if urllib.parse.urlsplit(url).scheme == "file":
            target = self.local_path(field, url, owner, "output")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            return
        try:
            self.fetcher.upload(url, stream, owner)
        except FetchError as error:
            logs.event("output_not_uploaded", task=task_id, field=field, url=redact(url), reason=error.reason,
                       detail=error.detail)
            raise StagingError(f"{field}: cannot be uploaded ({error.reason})") from None

    def remove(self, task_id: str) -> None:
        shutil.rmtree(self.job_dir(task_id), ignore_errors=True)


def posix_join(base: str, relative: str) -> str:
    return base.rstrip("/") + "/" + relative


def _under(path: str, directories: tuple[str, ...]) -> bool:
    return any(path == directory or path.startswith(directory + os.sep) for directory in directories)
