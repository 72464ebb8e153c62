# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""An HTCondor pool's summary (htcondor_pool_summary.summarise_pool) as metrics: InfluxDB line protocol and the
Prometheus text exposition format."""

from __future__ import annotations

import re


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
