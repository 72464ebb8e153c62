"""The outputs of a task, packed on the execute node by runner.py: files, directories and wildcard matches under
tes-root, read through descriptors opened without following a link (runner_open.py).

Links inside a DIRECTORY output or matched by a wildcard are left out, and so are FIFOs, sockets, device nodes and
names that are not UTF-8. The outputs are bounded, as executors could make them huge for nothing (hard links, sparse
files, empty files): max_output_files files, max_output_bytes bytes (the files' apparent sizes, a hard link's each
time), directories MAX_DEPTH levels deep; past any of these the task is a system error. Standard library only.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
import tarfile
from typing import Iterator

from .runner_open import DIRECTORY, READ, SystemFailure, open_beneath, regular

WILDCARD = "*?["
MAX_DEPTH = 64  # levels of directories in a DIRECTORY output, or components of a wildcard after its first wildcard
# The plan's max_output_bytes and max_output_files when it has none (config.BackendSettings' defaults).
MAX_OUTPUT_BYTES = 10 * 1024**3
MAX_OUTPUT_FILES = 10000


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
            yield "", regular(fd, f"{where}: the file {path} was not produced")
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
