# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read an HTCondor pool's ads: from its collector with the htcondor2 bindings (CollectorClient), or with the host's
own condor_status (read_local_pool).

Shared by the htcondor_pool_info module, the htcondor_pool inventory plugin and Pulsar's watchdog.
htcondor_pool_summary summarises what is read here; htcondor_pool_metrics turns a summary into metrics.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import traceback

try:
    import htcondor2
except ImportError:
    htcondor2 = None
    HTCONDOR_IMPORT_ERROR = traceback.format_exc()
else:
    HTCONDOR_IMPORT_ERROR = None

DEFAULT_COLLECTOR_PORT = 9618

SLOT_ATTRS = (
    "Machine", "Name", "SlotType", "State", "Activity",
    "Cpus", "Memory", "GPUs", "TotalSlotCpus", "TotalSlotMemory", "TotalSlotGPUs",
    "Arch", "OpSys", "CondorVersion", "MyAddress",
)
DAEMON_ATTRS = ("Name", "Machine", "MyAddress", "LastHeardFrom", "DaemonStartTime")
SCHEDD_ATTRS = DAEMON_ATTRS + ("TotalIdleJobs", "TotalRunningJobs", "TotalHeldJobs")
NEGOTIATOR_ATTRS = DAEMON_ATTRS + (
    "LastNegotiationCycleDuration0", "LastNegotiationCycleMatches0",
    "LastNegotiationCycleRejections0", "LastNegotiationCycleEnd0",
)
COLLECTOR_ATTRS = DAEMON_ATTRS + ("CollectorName", "CurrentTime")
DAEMON_QUERIES = {
    "collector": ("Collector", COLLECTOR_ATTRS),
    "negotiator": ("Negotiator", NEGOTIATOR_ATTRS),
    "schedd": ("Schedd", SCHEDD_ATTRS),
    "master": ("Master", DAEMON_ATTRS),
}


class PoolQueryError(Exception):
    """The pool could not be read; str() is a one-line reason fit for an operator."""


def split_collector(collector: str | None) -> tuple[str, int] | None:
    """'host', 'host:port' or '[v6]:port' to (host, port); None stays None (local configuration)."""
    if not collector:
        return None
    match = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<host>[^:\s]+)(?::(?P<port>\d+))?", collector.strip())
    if not match:
        raise PoolQueryError(f"collector '{collector}' is not host or host:port")
    host = match.group("v6") or match.group("host")
    port = int(match.group("p6") or match.group("port") or DEFAULT_COLLECTOR_PORT)
    if not 0 < port < 65536:
        raise PoolQueryError(f"collector '{collector}' has port {port}, outside 1-65535")
    return host, port


def read_token(token: str | None = None, token_file: str | None = None) -> str | None:
    """The IDTOKEN given inline or in a file; None when neither is given."""
    if token and token_file:
        raise PoolQueryError("give token or token_file, not both")
    if token:
        return token.strip()
    if not token_file:
        return None
    try:
        with open(token_file, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as err:
        raise PoolQueryError(f"cannot read token_file {token_file}: {err.strerror}") from None


class CollectorClient:
    """One pool's collector, queried with htcondor2 (optionally authenticating with an IDTOKEN)."""

    def __init__(self, collector: str | None = None, token: str | None = None, timeout: int = 20):
        if htcondor2 is None:
            raise RuntimeError("htcondor2 is not importable; check HTCONDOR_IMPORT_ERROR before building a client")
        self.address = split_collector(collector)
        self.timeout = timeout
        htcondor2.param["QUERY_TIMEOUT"] = str(timeout)
        security = None
        if token:
            # Require authentication so that a refused token fails loudly instead of reading anonymously.
            htcondor2.param["SEC_CLIENT_AUTHENTICATION"] = "REQUIRED"
            htcondor2.param["SEC_CLIENT_AUTHENTICATION_METHODS"] = "IDTOKENS"
            security = htcondor2.SecurityContext(token=token.strip())
        self.name = f"{self.address[0]}:{self.address[1]}" if self.address else htcondor2.param.get("COLLECTOR_HOST", "local")
        pool = self.name if self.address else None
        self._collector = htcondor2.Collector(pool, security)

    def check_reachable(self) -> None:
        """A TCP connection first, so that 'unreachable' and 'refused the query' are told apart."""
        if not self.address:
            return
        try:
            socket.create_connection(self.address, timeout=self.timeout).close()
        except OSError as err:
            reason = err.strerror or str(err) or type(err).__name__
            raise PoolQueryError(f"collector {self.name} is unreachable: {reason}") from None

    def query(self, ad_type: str, attrs, constraint: str | None = None) -> list[dict]:
        kwargs = {"projection": list(attrs)}
        if constraint:
            kwargs["constraint"] = constraint
        try:
            ads = self._collector.query(getattr(htcondor2.AdTypes, ad_type), **kwargs)
        except htcondor2.HTCondorException as err:
            raise PoolQueryError(
                f"collector {self.name} refused the {ad_type} query ({str(err).strip() or 'no reason given'});"
                " if the pool requires authentication, check the token"
            ) from None
        return [{attr: ad.get(attr) for attr in attrs if attr in ad} for ad in ads]

    def read_pool(self, with_daemons: bool = True) -> dict:
        """Every ad the summaries need: slots, and the daemons' ads by kind."""
        self.check_reachable()
        pool = {"slots": self.query("Startd", SLOT_ATTRS), "daemons": {}}
        if with_daemons:
            for kind, (ad_type, attrs) in DAEMON_QUERIES.items():
                pool["daemons"][kind] = self.query(ad_type, attrs)
        return pool


def read_local_pool(condor_status: str = "condor_status", timeout: float = 20.0) -> dict:
    """The same ads as CollectorClient.read_pool, read with the host's own condor_status, its configuration and
    credentials (on a Pulsar head, which needs no Python bindings for it)."""
    def query(option: str, attrs) -> list[dict]:
        command = [condor_status, option, "-json", "-attributes", ",".join(attrs)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise PoolQueryError(f"{' '.join(command[:2])} failed: {err}") from None
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
            raise PoolQueryError(f"{' '.join(command[:2])} failed: {reason}")
        return json.loads(done.stdout) if done.stdout.strip() else []

    # -slots: the slot ads (the bindings' AdTypes.Startd); -startd would give one daemon ad per machine.
    pool = {"slots": query("-slots", SLOT_ATTRS), "daemons": {}}
    for kind, (_ad_type, attrs) in DAEMON_QUERIES.items():
        pool["daemons"][kind] = query(f"-{kind}", attrs)
    return pool


def last_completion(condor_history: str = "condor_history", timeout: float = 20.0) -> float | None:
    """When the last job in this host's schedd history completed (epoch seconds); None when none did or it cannot be
    read."""
    try:
        done = subprocess.run([condor_history, "-limit", "1", "-af", "CompletionDate"], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        completed = float(done.stdout.split()[0])
    except (IndexError, ValueError):
        return None
    return completed if done.returncode == 0 and completed > 0 else None
