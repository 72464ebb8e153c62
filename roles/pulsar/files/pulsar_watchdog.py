"""Restart one Galaxy server's Pulsar when its service runs but its setup queues have no consumer; watch its staging space.

  pulsar_watchdog.py SERVER     (pulsar-watchdog@SERVER.service, from its timer)

A known upstream failure leaves Pulsar running with no consumer on its queues after some broker-side disconnects;
jobs then wait forever. The check is the collection's own (module_utils/broker.py queue_figures: passive declares
with Pulsar's own AMQP credentials and TLS settings from its app.yml). A queue without consumers is looked at again
after a short pause before anything is restarted, so a Pulsar in the middle of reconnecting is left alone; so is a
Pulsar that started less than the grace period ago, and any Pulsar while the broker cannot be reached (a restart would
not help). Each check logs one JSON line and rewrites a Prometheus text file with the restart count.

It also reports a staging file system with less free space than its floor, as a "staging_low" line and a metric. On a
full staging disk pulsar-app 0.16.0 fails each new job at setup and tells Galaxy no reason ("Remote job server
indicated a problem"); this names the cause where operators look. Nothing is restarted for it.

Each check also publishes the endpoint's health report on the Galaxy server's own vhost (module_utils/health_reports.py):
its HTCondor pool's state and free resources, read with the head's condor_status, which the Galaxy side's routing
reads there (module_utils/routing.py). The Galaxy side needs no port at the provider for it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from ansible_collections.esg.pulsar_network.plugins.module_utils.health_reports import publish_report
from ansible_collections.esg.pulsar_network.plugins.module_utils.htcondor_pool import (
    PoolQueryError,
    last_completion,
    read_local_pool,
)
from ansible_collections.esg.pulsar_network.plugins.module_utils.htcondor_pool_summary import routing_summary, summarise_pool
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError, queue_figures
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import pulsar_queue_names


def log(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True), flush=True)


def unit_uptime(unit: str) -> float | None:
    """Seconds since the unit became active, or None when it is not active."""
    shown = subprocess.run(["systemctl", "show", unit, "-p", "ActiveState", "-p", "ActiveEnterTimestampMonotonic"],
                           capture_output=True, text=True, check=True).stdout
    props = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    if props.get("ActiveState") != "active":
        return None
    return time.clock_gettime(time.CLOCK_MONOTONIC) - int(props["ActiveEnterTimestampMonotonic"]) / 1e6


def broker_settings(app: dict) -> tuple[str, str | None]:
    """The URL and CA file Pulsar itself uses: app.yml keeps TLS in amqp_connect_ssl_* keys, the URL without ssl=1."""
    url = app["message_queue_url"]
    if app.get("amqp_connect_ssl_cert_reqs") or app.get("amqp_connect_ssl_ca_certs"):
        url += ("&" if "?" in url else "?") + "ssl=1"
    return url, app.get("amqp_connect_ssl_ca_certs")


def setup_queues(app: dict) -> list[str]:
    managers = sorted(app.get("managers") or {"_default_": {}})
    return [pulsar_queue_names(manager, ("setup",))["setup"] for manager in managers]


def orphaned(url: str, ca_file: str | None, queues: list[str]) -> list[str]:
    """The queues nobody consumes. A consuming Pulsar declares its queues, so a missing one counts too."""
    figures = queue_figures(url, queues, ca_file=ca_file)
    return [queue for queue, figure in figures.items() if not figure["exists"] or figure["consumers"] == 0]


def check_staging(app: dict, server: str, floor_mb: float) -> int | None:
    """Bytes an unprivileged writer (Pulsar) may still use on the staging file system; a line when under the floor."""
    staging = app["staging_directory"]
    try:
        figures = os.statvfs(staging)
    except OSError as error:  # e.g. staging under /home, which the unit's ProtectHome hides
        log("staging_unknown", server=server, staging_directory=staging, reason=str(error))
        return None
    free = figures.f_bavail * figures.f_frsize
    if free < floor_mb * 2**20:
        log("staging_low", server=server, staging_directory=staging, free_bytes=free,
            reason=f"{staging} has {free / 2**20:.0f} MiB free, under the {floor_mb:g} MiB floor: once it is full, "
                   "new jobs fail at setup and Galaxy is not told why")
    return free


def pool_report() -> dict:
    """The pool as the network's routing sees it; a pool that cannot be read is down, with the reason."""
    try:
        return routing_summary(summarise_pool(read_local_pool()))
    except PoolQueryError as error:
        return {"state": "down", "reasons": [str(error)], "free": {}, "total": {}}


def report_health(url: str, ca_file: str | None, server: str, consumers_ok: bool, staging_free: int | None) -> None:
    report = {"time": time.time(), "server": server, "pool": pool_report(), "consumers_ok": consumers_ok,
              "staging_free_bytes": staging_free, "last_job_completed": last_completion()}
    try:
        publish_report(url, report, ca_file)
    except BrokerError as error:
        log("report_failed", server=server, reason=str(error))
        return
    log("reported", server=server, pool_state=report["pool"]["state"], free=report["pool"]["free"])


def write_metrics(path: Path, server: str, restarts: int, consumers_ok: bool, staging_free_bytes: int | None) -> None:
    labels = f'server="{server}"'
    text = (
        "# HELP pulsar_watchdog_restarts_total Restarts of Pulsar by the watchdog because its setup queues had no consumer.\n"
        "# TYPE pulsar_watchdog_restarts_total counter\n"
        f"pulsar_watchdog_restarts_total{{{labels}}} {restarts}\n"
        "# HELP pulsar_watchdog_consumers_ok Whether every setup queue had a consumer at the last check (1) or not (0).\n"
        "# TYPE pulsar_watchdog_consumers_ok gauge\n"
        f"pulsar_watchdog_consumers_ok{{{labels}}} {int(consumers_ok)}\n"
        "# HELP pulsar_watchdog_last_check_timestamp_seconds When the watchdog last checked.\n"
        "# TYPE pulsar_watchdog_last_check_timestamp_seconds gauge\n"
        f"pulsar_watchdog_last_check_timestamp_seconds{{{labels}}} {time.time():.0f}\n"
    )
    if staging_free_bytes is not None:
        text += (
            "# HELP pulsar_staging_free_bytes Free bytes on the staging file system at the last check.\n"
            "# TYPE pulsar_staging_free_bytes gauge\n"
            f"pulsar_staging_free_bytes{{{labels}}} {staging_free_bytes}\n"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(text)
    os.chmod(partial, 0o644)
    partial.replace(path)  # the textfile collector never reads half a file


def check(args: argparse.Namespace) -> int:
    unit = f"{args.unit_prefix}{args.server}.service"
    state_file = Path(args.state_dir) / f"{args.server}.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {"restarts": 0}
    metrics = Path(args.metrics_dir) / f"pulsar_watchdog_{args.server}.prom"
    app = yaml.safe_load((Path(args.config_dir) / args.server / "app.yml").read_text())
    free = check_staging(app, args.server, args.staging_min_free)
    url, ca_file = broker_settings(app)
    uptime = unit_uptime(unit)
    if uptime is None or uptime < args.grace:
        log("skipped", server=args.server, reason="not active" if uptime is None else f"up {uptime:.0f} s, in grace")
        write_metrics(metrics, args.server, state["restarts"], uptime is not None, free)
        report_health(url, ca_file, args.server, uptime is not None, free)
        return 0
    queues = setup_queues(app)
    try:
        missing = orphaned(url, ca_file, queues)
        if missing:
            time.sleep(args.confirm)
            missing = orphaned(url, ca_file, missing)
    except BrokerError as error:  # the broker is away or refuses: Pulsar reconnects by itself once it is back
        log("skipped", server=args.server, reason=str(error))
        write_metrics(metrics, args.server, state["restarts"], False, free)
        return 0
    if missing:
        log("restart", server=args.server, unit=unit, queues_without_consumer=missing,
            reason=f"{unit} is active (up {uptime:.0f} s) but nobody consumes {', '.join(missing)}")
        subprocess.run(["systemctl", "restart", unit], check=True)
        state["restarts"] += 1
        state["last_restart"] = time.time()
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(state))
    else:
        log("ok", server=args.server, queues=queues)
    write_metrics(metrics, args.server, state["restarts"], not missing, free)
    report_health(url, ca_file, args.server, not missing, free)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server")
    parser.add_argument("--config-dir", default="/etc/pulsar")
    parser.add_argument("--state-dir", default="/var/lib/pulsar-watchdog")
    parser.add_argument("--metrics-dir", default="/var/lib/prometheus/node-exporter")
    parser.add_argument("--unit-prefix", default="pulsar@")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds after Pulsar's start before it is judged")
    parser.add_argument("--confirm", type=float, default=10.0, help="seconds before a missing consumer is looked at again")
    parser.add_argument("--staging-min-free", type=float, default=1024.0, help="MiB of free staging space below which it warns")
    return check(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
