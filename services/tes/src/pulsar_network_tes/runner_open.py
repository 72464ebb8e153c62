"""The runner's way into tes-root (runner.py), where executors write and may leave symbolic links to any file of the
node: nothing under it is opened through a link.

open_beneath opens a container path a component at a time, each relative to the directory before, with O_NOFOLLOW:
a link where the task names a file or directory (stdin, stdout, stderr, an output) is a system error naming the field.
Files are read and written through the descriptors opened so, never their paths again, and only regular files are
(a FIFO, socket or device node is refused, never opened where the task names a file). Standard library only: it runs
on the execute nodes with runner.py.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat

# How the runner opens what lies under tes-root, where executors write: never through a symbolic link (O_NOFOLLOW), and
# never waiting on a FIFO an executor left there (O_NONBLOCK; set back to blocking once the file is known regular).
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
WRITE = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC  # read back for the tail


class SystemFailure(Exception):
    """A failure that is not the executors' own: the task ends SYSTEM_ERROR with this reason."""


def open_beneath(root: str, path: str, flags: int, where: str, make_dirs: bool = False) -> int:
    """A descriptor of the container path PATH in its host directory under ROOT, reached without following a link.

    Executors can leave symbolic links anywhere under their mount points, pointing at any file of the node. So each
    directory on the way is opened relative to the one before with O_NOFOLLOW, and the last component with FLAGS
    (which hold O_NOFOLLOW); a link met is a SystemFailure naming WHERE, and so is a last component, opened as a file,
    that exists and is not a regular file (a device node is not even opened). MAKE_DIRS creates the missing
    directories on the way, and the last one when FLAGS ask for a directory. Other errors (FileNotFoundError...) are
    the caller's."""
    names = [name for name in posixpath.normpath(path).split("/") if name]
    if ".." in names:
        raise SystemFailure(f"{where}: {path} climbs out of its directory")
    fd = os.open(root, DIRECTORY)
    try:
        for depth, name in enumerate(names):
            last = depth == len(names) - 1
            if make_dirs and (not last or flags & os.O_DIRECTORY):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, dir_fd=fd)
            if last and not flags & os.O_DIRECTORY:
                _refuse_special(fd, name, f"{where}: {path}")
            try:
                opened = os.open(name, flags if last else DIRECTORY, 0o644, dir_fd=fd)
            except OSError:
                if _is_link(fd, name):
                    link = "/" + "/".join(names[:depth + 1])
                    raise SystemFailure(f"{where}: {link} is a symbolic link; the runner follows none") from None
                raise
            os.close(fd)
            fd = opened
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_special(dir_fd: int, name: str, what: str) -> None:
    """A SystemFailure when NAME exists in DIR_FD and is neither a regular file nor a link (open_beneath's error)."""
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise SystemFailure(f"{what} is not a regular file")


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def regular(fd: int, message: str) -> int:
    """FD, when it is a regular file (then blocking again); a SystemFailure with MESSAGE otherwise."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise SystemFailure(message)
    os.set_blocking(fd, True)
    return fd
