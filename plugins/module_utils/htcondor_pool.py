# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read an HTCondor pool from its collector and summarise it truthfully.

Shared by the htcondor_pool_info module and the htcondor_pool inventory plugin. Everything below
CollectorClient works on plain dicts, so it is tested without a pool.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
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
RESOURCES = (("cpus", "Cpus", "TotalSlotCpus"), ("memory_mb", "Memory", "TotalSlotMemory"), ("gpus", "GPUs", "TotalSlotGPUs"))


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


def routing_summary(summary: dict) -> dict:
    """What the network's routing needs from a pool: down (no job can run), degraded or up, and its free and total
    resources. Down is what stops every job: no collector, negotiator, schedd or execute slot."""
    if not summary.get("collector_reachable"):
        return {"state": "down", "reasons": [summary.get("error", "collector unreachable")], "free": {}, "total": {}}
    state, reasons = verdict(summary)
    daemons = summary["daemons"]
    fatal = not daemons.get("negotiator") or not daemons.get("schedd") or not summary["slots"]["total"]
    resources = summary["resources"]
    return {"state": "down" if fatal else ("up" if state == "healthy" else "degraded"), "reasons": reasons,
            "free": {key: value["unclaimed"] for key, value in resources.items()},
            "total": {key: value["total"] for key, value in resources.items()},
            "jobs": summary["jobs"]["total"]}


def _number(value) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _whole(value: float):
    return int(value) if float(value).is_integer() else round(value, 3)


def summarise_resources(slots: list[dict]) -> dict:
    """CPUs, memory and GPUs: total, claimed, unclaimed.

    A partitionable slot's Total* attributes hold the machine's resources and its plain attributes what is left;
    its dynamic children hold what was carved out. Counting totals from partitionable and static slots and
    claims from dynamic and static slots counts nothing twice.
    """
    summary = {}
    for key, attr, total_attr in RESOURCES:
        total = claimed = 0
        for slot in slots:
            kind = slot.get("SlotType") or "Static"
            if kind == "Partitionable":
                total += _number(slot.get(total_attr, slot.get(attr)))
            elif kind == "Static":
                total += _number(slot.get(attr))
            if kind != "Partitionable" and slot.get("State") == "Claimed":
                claimed += _number(slot.get(attr))
        summary[key] = {"total": _whole(total), "claimed": _whole(claimed), "unclaimed": _whole(total - claimed)}
    return summary


def summarise_slots(slots: list[dict]) -> dict:
    by_state, by_activity, by_type = {}, {}, {}
    for slot in slots:
        state, activity = slot.get("State") or "Unknown", slot.get("Activity") or "Unknown"
        by_state[state] = by_state.get(state, 0) + 1
        key = f"{state}/{activity}"
        by_activity[key] = by_activity.get(key, 0) + 1
        kind = slot.get("SlotType") or "Static"
        by_type[kind] = by_type.get(kind, 0) + 1
    return {
        "total": len(slots),
        "by_state": by_state,
        "by_state_activity": by_activity,
        "by_type": by_type,
        "busy": sum(1 for s in slots if s.get("Activity") == "Busy"),
        "idle": sum(1 for s in slots if s.get("Activity") == "Idle"),
    }


def address_host(my_address: str | None) -> str | None:
    """'<10.0.0.5:9618?addrs=...>' to '10.0.0.5'."""
    match = re.match(r"<(?:\[([^\]]+)\]|([^:>?]+)):\d+", my_address or "")
    return (match.group(1) or match.group(2)) if match else None


def summarise_machines(slots: list[dict]) -> dict:
    """One entry per execute machine, for the inventory plugin."""
    machines = {}
    for slot in slots:
        name = slot.get("Machine") or slot.get("Name", "").partition("@")[2]
        if not name:
            continue
        machines.setdefault(name, []).append(slot)
    summary = {}
    for name, machine_slots in sorted(machines.items()):
        first = machine_slots[0]
        resources = summarise_resources(machine_slots)
        summary[name] = {
            "cpus": resources["cpus"]["total"],
            "memory_mb": resources["memory_mb"]["total"],
            "gpus": resources["gpus"]["total"],
            "claimed": {key: value["claimed"] for key, value in resources.items()},
            "slots": summarise_slots(machine_slots)["by_state"],
            "arch": first.get("Arch"),
            "opsys": first.get("OpSys"),
            "condor_version": _version(first.get("CondorVersion")),
            "address": address_host(first.get("MyAddress")),
        }
    return summary


def _version(condor_version: str | None) -> str | None:
    match = re.search(r"\$CondorVersion: (\S+)", condor_version or "")
    return match.group(1) if match else condor_version


def summarise_daemons(daemons: dict, now: float) -> dict:
    summary = {}
    for kind, ads in daemons.items():
        entries = []
        for ad in ads:
            heard = ad.get("LastHeardFrom")
            entries.append({
                "name": ad.get("Name"),
                "machine": ad.get("Machine"),
                "age_seconds": int(now - heard) if isinstance(heard, (int, float)) else None,
            })
        summary[kind] = sorted(entries, key=lambda e: str(e["name"]))
    return summary


def summarise_jobs(schedds: list[dict]) -> dict:
    per_schedd = {}
    for ad in schedds:
        per_schedd[ad.get("Name")] = {
            "idle": int(_number(ad.get("TotalIdleJobs"))),
            "running": int(_number(ad.get("TotalRunningJobs"))),
            "held": int(_number(ad.get("TotalHeldJobs"))),
        }
    total = {status: sum(s[status] for s in per_schedd.values()) for status in ("idle", "running", "held")}
    return {"per_schedd": per_schedd, "total": total}


def summarise_negotiator(negotiators: list[dict], now: float) -> dict | None:
    if not negotiators:
        return None
    ad = negotiators[0]
    end = ad.get("LastNegotiationCycleEnd0")
    return {
        "name": ad.get("Name"),
        "cycle_duration_seconds": ad.get("LastNegotiationCycleDuration0"),
        "matches": ad.get("LastNegotiationCycleMatches0"),
        "rejections": ad.get("LastNegotiationCycleRejections0"),
        "cycle_age_seconds": int(now - end) if isinstance(end, (int, float)) and end > 0 else None,
    }


def summarise_pool(pool: dict, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    daemons = pool["daemons"]
    collectors = daemons.get("collector", [])
    return {
        "collector_reachable": True,
        "pool_name": (collectors[0].get("CollectorName") or collectors[0].get("Name")) if collectors else None,
        "daemons": summarise_daemons(daemons, now),
        "slots": summarise_slots(pool["slots"]),
        "resources": summarise_resources(pool["slots"]),
        "execute_nodes": sorted({s.get("Machine") for s in pool["slots"] if s.get("Machine")}),
        "jobs": summarise_jobs(daemons.get("schedd", [])),
        "negotiator": summarise_negotiator(daemons.get("negotiator", []), now),
    }


def verdict(summary: dict, max_ad_age: int = 900, expected_schedds=(), expected_execute_nodes=()) -> tuple[str, list[str]]:
    """healthy, degraded or down, with the reasons an operator acts on."""
    if not summary.get("collector_reachable"):
        return "down", [summary.get("error", "collector unreachable")]
    reasons = []
    daemons = summary["daemons"]
    if not daemons.get("negotiator"):
        reasons.append("no negotiator: jobs will not be matched")
    for kind in ("negotiator", "schedd", "master"):
        for entry in daemons.get(kind, []):
            if entry["age_seconds"] is not None and entry["age_seconds"] > max_ad_age:
                reasons.append(f"{kind} {entry['name']} not heard from in {entry['age_seconds']} s (limit {max_ad_age} s)")
    if not daemons.get("schedd"):
        reasons.append("no schedd: nothing can submit jobs")
    schedd_names = {e["name"] for e in daemons.get("schedd", [])} | {e["machine"] for e in daemons.get("schedd", [])}
    for name in expected_schedds:
        if name not in schedd_names:
            reasons.append(f"expected schedd {name} is missing")
    if not summary["slots"]["total"]:
        reasons.append("no execute slots: no startd has reported")
    for name in expected_execute_nodes:
        if name not in summary["execute_nodes"]:
            reasons.append(f"expected execute node {name} is missing")
    jobs = summary["jobs"]["total"]
    if jobs["held"] and not jobs["idle"] and not jobs["running"]:
        reasons.append(f"all {jobs['held']} jobs are held")
    return ("degraded" if reasons else "healthy"), reasons


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _influx_tag(value: str) -> str:
    return re.sub(r"([,= ])", r"\\\1", str(value))


def influx_lines(summary: dict, pool: str, timestamp_ns: int) -> str:
    """InfluxDB line protocol, measurement htcondor_cluster_usage (as usegalaxy.eu's telegraf consumers read)."""
    res, slots, jobs = summary["resources"], summary["slots"], summary["jobs"]["total"]
    fields = {
        "cpus_total": res["cpus"]["total"], "cpus_claimed": res["cpus"]["claimed"], "cpus_unclaimed": res["cpus"]["unclaimed"],
        "memory_total": res["memory_mb"]["total"], "memory_claimed": res["memory_mb"]["claimed"],
        "memory_unclaimed": res["memory_mb"]["unclaimed"],
        "gpus_total": res["gpus"]["total"], "gpus_claimed": res["gpus"]["claimed"], "gpus_unclaimed": res["gpus"]["unclaimed"],
        "slots_busy": slots["busy"], "slots_idle": slots["idle"], "slots_total": slots["total"],
        "jobs_idle": jobs["idle"], "jobs_running": jobs["running"], "jobs_held": jobs["held"],
    }
    body = ",".join(f"{k}={v}i" if isinstance(v, int) else f"{k}={v}" for k, v in fields.items())
    return f"htcondor_cluster_usage,pool={_influx_tag(pool)} {body} {timestamp_ns}\n"


def prometheus_text(summary: dict, pool: str, health: str) -> str:
    """Prometheus text exposition format (for node_exporter's textfile collector)."""
    p = f'pool="{_label(pool)}"'
    out = []

    def metric(name, help_text, samples):
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} gauge")
        out.extend(f"{name}{{{labels}}} {value}" for labels, value in samples)

    metric("htcondor_pool_up", "1 if the collector answered.", [(p, 1 if summary.get("collector_reachable") else 0)])
    metric("htcondor_pool_healthy", "1 if the pool's verdict is healthy.", [(p, 1 if health == "healthy" else 0)])
    if summary.get("collector_reachable"):
        for key, unit in (("cpus", "CPUs"), ("memory_mb", "memory in MB"), ("gpus", "GPUs")):
            metric(f"htcondor_pool_{key}", f"Pool {unit} by state.",
                   [(f'{p},state="{state}"', summary["resources"][key][state]) for state in ("total", "claimed", "unclaimed")])
        metric("htcondor_pool_slots", "Slots by state.",
               [(f'{p},state="{_label(state)}"', n) for state, n in sorted(summary["slots"]["by_state"].items())])
        metric("htcondor_pool_jobs", "Jobs per schedd by status.",
               [(f'{p},schedd="{_label(schedd)}",status="{status}"', n)
                for schedd, counts in sorted(summary["jobs"]["per_schedd"].items()) for status, n in counts.items()])
    return "\n".join(out) + "\n"
