# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""An HTCondor pool's ads, as htcondor_pool reads them, summarised truthfully: slots, resources, machines,
daemons, jobs and the negotiator; the verdict (healthy, degraded or down) and what the network's routing needs.

Plain dicts in and out, so it is tested without a pool (and runs beside Pulsar's watchdog without the bindings).
"""

from __future__ import annotations

import re
import time

RESOURCES = (("cpus", "Cpus", "TotalSlotCpus"), ("memory_mb", "Memory", "TotalSlotMemory"), ("gpus", "GPUs", "TotalSlotGPUs"))


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
