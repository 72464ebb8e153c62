# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which Pulsar endpoints may take a new job now, and which of them gets it.

One endpoint's verdict (verdict.py) comes from what its Galaxy (or TES) side sees on the broker, and nothing else:
the consumers and backlog of its setup queue, and the last health report the endpoint published on the same vhost
(its pool's state and free resources). A report older than max_age counts as unknown, never as healthy.

Among healthy endpoints the one where most copies of the job fit in the free resources comes first, a tie in random
order. The figures are up to a minute old, so what this process routed to an endpoint since its report is taken off
that endpoint's free resources: a burst spreads instead of landing on the endpoint that was freest a minute ago.
Endpoints the job does not fit into now come after those it fits into, the larger first.

Galaxy's TPV ranking (usegalaxy_replica's tpv.yml), the replica's health collector and the TES service all use this
file. It imports only the standard library and verdict.py, so each of them can load it in its own virtualenv.
"""

from __future__ import annotations

import json
import logging
import random
import time

from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import HEALTHY, MAX_AGE

HEALTH_QUEUE = "pulsar_network__health"
ENDPOINT_RUNNER_PREFIX = "pulsar_"

log = logging.getLogger(__name__)


def _fits(resources: dict, cores: float, mem_gb: float, gpus: float) -> float:
    """How many copies of a job of this size fit in these resources (memory in MB, as HTCondor counts it)."""
    counts = [resources.get("cpus", 0) / max(cores, 1)]
    if mem_gb:
        counts.append(resources.get("memory_mb", 0) / (mem_gb * 1024))
    if gpus:
        counts.append(resources.get("gpus", 0) / gpus)
    return max(0.0, min(counts))


def _best_first(fits: dict[str, float], rng: random.Random) -> list[str]:
    keys = {name: (-fit, rng.random()) for name, fit in fits.items()}
    return sorted(fits, key=keys.__getitem__)


# What this process routed to each endpoint: [(when, cores, memory_mb, gpus)], kept for MAX_AGE.
_routed: dict[str, list[tuple[float, float, float, float]]] = {}


def _free_now(entry: dict) -> dict:
    """The endpoint's reported free resources less what this process routed there after the report."""
    free = dict(entry.get("free") or {})
    since = (entry.get("report") or {}).get("time")
    for when, cores, memory_mb, gpus in _routed.get(entry.get("name", ""), []):
        if isinstance(since, (int, float)) and when > since:
            free["cpus"] = free.get("cpus", 0) - cores
            free["memory_mb"] = free.get("memory_mb", 0) - memory_mb
            free["gpus"] = free.get("gpus", 0) - gpus
    return free


def record_routed(name: str, cores: float, mem_gb: float, gpus: float, now: float | None = None) -> None:
    now = time.time() if now is None else now
    kept = [claim for claim in _routed.get(name, []) if now - claim[0] <= MAX_AGE]
    _routed[name] = kept + [(now, cores, mem_gb * 1024, gpus)]


def order_endpoints(names: list[str], health: dict, cores: float = 1, mem_gb: float = 0, gpus: float = 0,
                    now: float | None = None, max_age: float = MAX_AGE, rng: random.Random | None = None) -> list[str]:
    """The healthy endpoints among NAMES, best first. A health document older than max_age, or without an endpoint,
    makes that endpoint unknown: it is left out."""
    now = time.time() if now is None else now
    rng = rng or random.Random()
    endpoints = health.get("endpoints") or {}
    fresh = isinstance(health.get("time"), (int, float)) and now - health["time"] <= max_age
    fitting, waiting = {}, {}
    for name in names:
        entry = endpoints.get(name) or {}
        if not fresh or entry.get("verdict") != HEALTHY:
            continue
        fit_now = _fits(_free_now({**entry, "name": name}), cores, mem_gb, gpus)
        if fit_now >= 1:
            fitting[name] = fit_now
        else:  # healthy but full: its pool queues the job until a slot frees
            waiting[name] = _fits(entry.get("total") or {}, cores, mem_gb, gpus)
    return _best_first(fitting, rng) + _best_first(waiting, rng)


def read_health(path: str) -> dict:
    """The health collector's document; an empty one (every endpoint unknown) when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        log.warning("network health %s cannot be read (%s): no endpoint counts as healthy", path, error)
        return {}


def rank(destinations: list, entity, path: str, max_age: float = MAX_AGE) -> list:
    """TPV's rank hook. Pulsar endpoints (destinations whose runner is pulsar_NAME, as usegalaxy_replica names them)
    in the order order_endpoints gives for the entity's cores, mem (GB) and gpus, then the other destinations (Galaxy's
    local runner) as they came. Empty when only endpoints were candidates and none is healthy: the caller then defers
    the job, which waits in Galaxy instead of in a dead endpoint's queue."""
    endpoints = {d.id: d for d in destinations if str(getattr(d, "runner", "")).startswith(ENDPOINT_RUNNER_PREFIX)}
    others = [d for d in destinations if d.id not in endpoints]
    if not endpoints:
        return others
    health = read_health(path)
    size = {"cores": float(getattr(entity, "cores", None) or 1), "mem_gb": float(getattr(entity, "mem", None) or 0),
            "gpus": float(getattr(entity, "gpus", None) or 0)}
    ordered = order_endpoints(list(endpoints), health, max_age=max_age, **size)
    if ordered:
        record_routed(ordered[0], **size)
    left_out = [name for name in endpoints if name not in ordered]
    if left_out:
        verdicts = {name: (health.get("endpoints") or {}).get(name, {}).get("verdict", "unknown") for name in left_out}
        log.info("network routing: not routing to %s", ", ".join(f"{name} ({verdict})" for name, verdict in verdicts.items()))
    return [endpoints[name] for name in ordered] + others
