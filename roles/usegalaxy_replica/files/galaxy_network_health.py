# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read every Pulsar endpoint's state from the broker, for Galaxy's routing.

  galaxy_network_health.py --config /etc/galaxy/network_health.yml   (galaxy-network-health.service)

For each endpoint this Galaxy server sends jobs to, with the same credentials as Galaxy's runner, module_utils/
network_health.py reads the endpoint's state from the broker and routing.py turns it into a verdict; this writes all verdicts to one JSON
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
from ansible_collections.esg.pulsar_network.plugins.module_utils.network_health import collect as collect_health


def log(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}, sort_keys=True), flush=True)


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
    return collect_health(config.get("endpoints") or [], previous, ca_file=config.get("ca_file"),
                          max_age=config["max_age"], max_backlog=config["max_backlog"],
                          on_unreachable=lambda name, reason: log("unreachable", endpoint=name, reason=reason))


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
