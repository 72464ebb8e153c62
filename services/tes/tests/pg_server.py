"""A throwaway PostgreSQL server for the store's tests: initdb into a temporary directory and a postgres listening
only on a Unix socket there, as the postgres user when the tests run as root (PostgreSQL refuses root).

The server comes from Debian's postgresql package (scripts/bootstrap.sh installs it). Without it the tests fail and
say so: they are not skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid

PORT = 5432  # only the socket's file name: nothing listens on TCP


def _binaries() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's server is not installed (apt-get install postgresql; scripts/bootstrap.sh does)")
    return os.path.dirname(found[-1])


class Server:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.root = tempfile.mkdtemp(prefix="tes-pg-")
        self.data = os.path.join(self.root, "data")
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "tes", "--auth=trust", "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, os.path.join(self.bin, tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.root, "log"), "-o",
                  f"-c listen_addresses='' -k {self.root} -p {PORT} -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://tes@/{database}?host={self.root}&port={PORT}"

    def new_database(self) -> str:
        """A fresh database's URL, one per test."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"create database {name}")
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            for _attempt in range(3):
                shutil.rmtree(self.root, ignore_errors=True)
                if not os.path.exists(self.root):
                    break
                time.sleep(0.2)
