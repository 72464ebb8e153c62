# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read every Pulsar endpoint's state from the broker, for Galaxy's routing.

  galaxy_network_health.py --config /etc/galaxy/network_health.yml   (galaxy-network-health.service)

For each endpoint this Galaxy server sends jobs to, on the endpoint's own vhost and with the same credentials as
Galaxy's runner: the setup queue's consumers and backlog (passive declare), and the health report the endpoint's
watchdog publishes there. module_utils/routing.py turns both into a verdict; this writes all verdicts to one JSON
document, which TPV's rank hook reads for every new job, the same figures as Prometheus metrics, and the operators'
status page (one HTML table, which nginx serves behind authentication). It asks nothing of the provider but the
broker.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from pathlib import Path

import yaml
from ansible_collections.esg.pulsar_network.plugins.module_utils.health_reports import peek_report
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_job import JobError, queue_figures
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.routing import endpoint_verdict


def log(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True), flush=True)


def read_endpoint(endpoint: dict, ca_file: str | None, last_report: dict | None) -> tuple[dict | None, dict | None]:
    """The setup queue's figures (None when the broker cannot be read) and the newest report seen."""
    setup_queue = pulsar_queue_names(endpoint.get("manager") or "production", ("setup",))["setup"]
    try:
        setup = queue_figures(endpoint["amqp_url"], [setup_queue], ca_file=ca_file)[setup_queue]
        report = peek_report(endpoint["amqp_url"], ca_file=ca_file)
    except JobError as error:
        log("unreachable", endpoint=endpoint["name"], reason=str(error))
        return None, last_report
    # Another reader may hold the report this instant: the last one seen still counts, by its own age.
    return setup, report or last_report


def write_atomically(path: Path, text: str, mode: int) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    os.chmod(partial, mode)
    partial.replace(path)


def metrics_text(document: dict) -> str:
    lines = []
    series = (
        ("pulsar_network_endpoint_healthy", "1 when routing sends new jobs to the endpoint.",
         lambda e: int(e["verdict"] == "healthy")),
        ("pulsar_network_endpoint_queued", "Jobs waiting in the endpoint's setup queue.", lambda e: e["queued"]),
        ("pulsar_network_endpoint_consumers", "Consumers of the endpoint's setup queue.", lambda e: e["consumers"]),
        ("pulsar_network_endpoint_free_cpus", "Unclaimed CPUs in the endpoint's pool.", lambda e: e["free"].get("cpus")),
        ("pulsar_network_endpoint_total_cpus", "CPUs in the endpoint's pool.", lambda e: e["total"].get("cpus")),
        ("pulsar_network_endpoint_report_age_seconds", "Age of the endpoint's last health report.",
         lambda e: e["report_age"]),
    )
    for name, help_text, value in series:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for endpoint, entry in sorted(document["endpoints"].items()):
            if value(entry) is not None:
                lines.append(f'{name}{{endpoint="{endpoint}",verdict="{entry["verdict"]}"}} {value(entry)}')
    return "\n".join(lines) + "\n"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0, int(seconds))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago" if seconds < 7200 else f"{seconds // 3600} h ago"


def status_html(document: dict) -> str:
    """The operators' status page: one row per endpoint, as routing sees it now."""
    now = document["time"]
    rows = []
    for name, entry in sorted(document["endpoints"].items()):
        free, total = entry["free"], entry["total"]
        completed = (entry.get("report") or {}).get("last_job_completed")
        cells = [
            name,
            entry["verdict"],
            "; ".join(entry["reasons"]) or "-",
            "-" if entry["queued"] is None else str(entry["queued"]),
            "-" if entry["consumers"] is None else str(entry["consumers"]),
            f"{free.get('cpus', '-')} / {total.get('cpus', '-')}",
            "never" if completed is None else f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(completed))} UTC "
                                              f"({_age(now - completed)})",
            _age(entry["report_age"]),
        ]
        rows.append(f'<tr class="{html.escape(entry["verdict"])}">'
                    + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    head = ("Endpoint", "Verdict", "Why", "Waiting jobs", "Consumers", "Free / total CPUs", "Last job completed",
            "Health data")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>Pulsar Network status</title>
<style>body{{font-family:sans-serif}}td,th{{padding:.3em .8em;text-align:left}}
tr.healthy td:nth-child(2){{color:#070}}tr:not(.healthy) td:nth-child(2){{color:#a00;font-weight:bold}}</style>
</head><body>
<h1>Pulsar Network status</h1>
<p>As this Galaxy server's routing saw the endpoints at {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(now))} UTC.
New jobs go only to healthy endpoints.</p>
<table id="endpoints"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def collect(config: dict, previous: dict) -> dict:
    now = time.time()
    endpoints = {}
    for endpoint in config.get("endpoints") or []:
        last = (previous.get("endpoints") or {}).get(endpoint["name"], {}).get("report")
        setup, report = read_endpoint(endpoint, config.get("ca_file"), last)
        entry = endpoint_verdict(setup, report, now, max_age=config["max_age"], max_backlog=config["max_backlog"],
                                 draining=bool(endpoint.get("draining")))
        endpoints[endpoint["name"]] = {**entry, "report": report}
    return {"time": now, "endpoints": endpoints}


def run_once(config: dict, output: Path, metrics: Path | None, status: Path | None = None) -> dict:
    try:
        previous = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    document = collect(config, previous)
    write_atomically(output, json.dumps(document, sort_keys=True), 0o640)
    if metrics:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(metrics, metrics_text(document), 0o644)
    if status:
        write_atomically(status, status_html(document), 0o640)  # its directory gives it the web server's group
    for name, entry in sorted(document["endpoints"].items()):
        if entry["verdict"] != "healthy":
            log("not_routed", endpoint=name, verdict=entry["verdict"], reasons=entry["reasons"])
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the YAML file the usegalaxy_replica role writes")
    parser.add_argument("--once", action="store_true", help="collect once and exit")
    args = parser.parse_args(argv)
    config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    output = Path(config["output"])
    metrics = Path(config["metrics"]) if config.get("metrics") else None
    status = Path(config["status"]) if config.get("status") else None
    while True:
        started = time.monotonic()
        run_once(config, output, metrics, status)
        if args.once:
            return 0
        time.sleep(max(0.0, config["interval"] - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
