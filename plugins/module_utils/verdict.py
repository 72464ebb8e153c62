# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether a Pulsar endpoint is healthy: the network's one verdict.

Every reader judges an endpoint here, from what it can see: Galaxy's routing and the TES service (its setup queue and
its health report, through network_health.collect), the rabbitmq_queue_info and pulsar_job modules and the
pulsar_endpoints inventory (its queues). Each failing check adds a reason; the first decides the verdict:

=============  =================================================================================================
draining       the operator is offboarding it: its running jobs finish, it gets no new ones
unreachable    the broker could not be read (auth_failed: it refused the reader)
absent         the setup queue does not exist: Pulsar has never connected to this vhost
stalled        nobody consumes one of Pulsar's queues (Pulsar stopped, or its consumer was lost)
backlogged     more messages wait in one of them than the limit
unknown        no health report, or one older than max_age (only where reports are read)
pool_down      the health report says the endpoint's HTCondor pool is down
healthy        none of these
=============  =================================================================================================

Standard library only: Galaxy's TPV rank hook and Pulsar's watchdog load it in their own virtualenvs.
"""

from __future__ import annotations

HEALTHY = "healthy"
MAX_AGE = 60.0
MAX_BACKLOG = 10


def endpoint_verdict(queues: dict | None, roles: dict, report: dict | None = None, now: float | None = None, *,
                     reports: bool = False, max_age: float = MAX_AGE, max_backlog: int = MAX_BACKLOG,
                     draining: bool = False, broker_error: tuple[str, str] | None = None) -> dict:
    """One endpoint's verdict entry: {verdict, reasons, queued, consumers, report_age, free, total, pool_state}.

    queues: {queue name: {exists, messages_ready, consumers}}, or None when the broker could not be read (then
    broker_error is its (kind, reason)); roles: {Pulsar's role: queue name} for the queues to judge, setup among
    them. With reports, REPORT (the endpoint's last health report, or None) counts too, by its age at NOW.
    """
    entry = {"verdict": HEALTHY, "reasons": [], "report_age": None, "queued": None, "consumers": None,
             "free": {}, "total": {}, "pool_state": None}

    def fail(verdict: str, reason: str) -> None:
        if entry["verdict"] == HEALTHY:
            entry["verdict"] = verdict
        entry["reasons"].append(reason)

    if draining:
        fail("draining", "the operator is offboarding it: its running jobs finish, it gets no new ones")
    if queues is None:
        kind, reason = broker_error or ("unreachable", "the broker could not be read")
        fail(kind, reason)
    else:
        _judge_queues(queues, roles, max_backlog, entry, fail)
    if reports:
        _judge_report(report, now, max_age, entry, fail)
    return entry


def _judge_queues(queues: dict, roles: dict, max_backlog: int, entry: dict, fail) -> None:
    setup = queues.get(roles["setup"]) or {}
    entry["queued"], entry["consumers"] = setup.get("messages_ready"), setup.get("consumers")
    if not setup.get("exists"):
        fail("absent", f"queue {roles['setup']} does not exist: Pulsar has never connected to this vhost")
        return
    for name in roles.values():
        queue = queues.get(name) or {}
        if not queue.get("exists"):
            fail("stalled", f"queue {name} does not exist")
        elif not queue.get("consumers"):
            fail("stalled", f"nobody consumes {name} ({queue.get('messages_ready', 0)} ready)")
    for name in roles.values():
        ready = (queues.get(name) or {}).get("messages_ready", 0)
        if ready > max_backlog:
            fail("backlogged", f"{name} holds {ready} ready messages (limit {max_backlog})")


def _judge_report(report: dict | None, now: float | None, max_age: float, entry: dict, fail) -> None:
    age = now - report["time"] if report and isinstance(report.get("time"), (int, float)) and now is not None else None
    pool = (report or {}).get("pool") or {}
    entry.update(report_age=None if age is None else round(age, 1), free=pool.get("free") or {},
                 total=pool.get("total") or {}, pool_state=pool.get("state"))
    if age is None:
        fail("unknown", "the endpoint has published no health report")
    elif age > max_age:
        fail("unknown", f"the last health report is {age:.0f} s old (limit {max_age:.0f} s)")
    elif pool.get("state") == "down":
        fail("pool_down", "the pool is down: " + "; ".join(pool.get("reasons") or ["no reason given"]))
