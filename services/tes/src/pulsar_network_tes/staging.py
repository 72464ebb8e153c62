"""A task's files on the TES host: its inputs gathered before Pulsar stages them, its outputs delivered after.

Each task has a job directory laid out as Galaxy lays out its jobs (inputs, outputs, working, metadata, tool), from
which Pulsar downloads the inputs and into which it uploads the outputs (the job files API, files_api.py).

Inputs come from `content`, from `http(s)://` URLs (downloaded here, with the system's trusted CAs) and from
`file://` paths, which must lie under one of the service's storage roots: a user cannot have the service read any
file of its host. A DIRECTORY input goes as one tar file. Outputs go to `file://` URLs under a storage root, or are
uploaded with HTTP PUT to `https://` URLs; a directory or wildcard output is one URL per file, the output's `url`
followed by the file's path under it.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tarfile
import urllib.parse
import urllib.request
from typing import Any, Iterator

from .plan import staged_name

DOWNLOAD_TIMEOUT = 60.0
CHUNK = 1 << 20


class StagingError(Exception):
    """An input that cannot be fetched or an output that cannot be delivered; the message names the field."""


class Staging:
    def __init__(self, work_dir: str, storage_roots: tuple[str, ...], max_input_bytes: int) -> None:
        self.work_dir = os.path.realpath(work_dir)
        self.roots = tuple(os.path.realpath(r) for r in storage_roots)
        self.max_input_bytes = max_input_bytes

    def job_dir(self, task_id: str) -> str:
        return os.path.join(self.work_dir, task_id)

    def local_path(self, field: str, url: str) -> str:
        """The path of a file:// URL, which must lie under a storage root."""
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            raise StagingError(f"{field}: file:// URLs name a path on the TES host, not host {parsed.netloc}")
        path = os.path.realpath(urllib.parse.unquote(parsed.path))
        if not any(path == root or path.startswith(root + os.sep) for root in self.roots):
            raise StagingError(f"{field}: {path} is outside the service's storage ({', '.join(self.roots) or 'none'})")
        return path

    def check_urls(self, task: dict[str, Any]) -> str | None:
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
                        self.local_path(f"{kind}[{i}].url", url)
                    except StagingError as error:
                        return str(error)
        return None

    def gather_inputs(self, task: dict[str, Any]) -> list[str]:
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
                source = self.local_path(field, item["url"])
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
                self._download(field, item["url"], target)
            paths.append(target)
        return paths

    def _download(self, field: str, url: str, target: str) -> None:
        received = 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "pulsar-network-tes"})
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT,
                                        context=ssl.create_default_context()) as response, open(target, "wb") as out:
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                    if received > self.max_input_bytes:
                        raise StagingError(f"{field}: larger than the limit of {self.max_input_bytes} bytes")
                    out.write(chunk)
        except StagingError:
            raise
        except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts and TLS failures are OSErrors
            raise StagingError(f"{field}: {url} cannot be downloaded ({error})") from None

    def deliver_outputs(self, task: dict[str, Any], tar_path: str, manifest: list[dict]) -> list[dict[str, str]]:
        """Put each output file where its URL says; the task log's outputs (url, path, size_bytes)."""
        outputs = task.get("outputs") or []
        delivered = []
        with tarfile.open(tar_path) as archive:
            for entry in manifest:
                output = outputs[entry["index"]]
                relative = entry["relative"]
                url = output["url"] if not relative else output["url"].rstrip("/") + "/" + urllib.parse.quote(relative)
                member = archive.extractfile(f"o{entry['index']}/{relative}" if relative else f"o{entry['index']}")
                if member is None:
                    raise StagingError(f"outputs[{entry['index']}]: {relative or output['path']} is not a file")
                with member:
                    self._put(f"outputs[{entry['index']}].url", url, member)
                path = (posix_join(output.get("path_prefix") or output["path"], relative) if relative else output["path"])
                delivered.append({"url": url, "path": path, "size_bytes": str(entry["size_bytes"])})
        return delivered

    def _put(self, field: str, url: str, stream: Any) -> None:
        if urllib.parse.urlsplit(url).scheme == "file":
            target = self.local_path(field, url)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            return
        request = urllib.request.Request(url, data=_chunks(stream), method="PUT",
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT, context=ssl.create_default_context()):
                pass
        except (OSError, ValueError) as error:
            raise StagingError(f"{field}: {url} cannot be uploaded ({error})") from None

    def remove(self, task_id: str) -> None:
        shutil.rmtree(self.job_dir(task_id), ignore_errors=True)


def posix_join(base: str, relative: str) -> str:
    return base.rstrip("/") + "/" + relative


def _chunks(stream: Any) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
