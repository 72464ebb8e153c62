#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: htcondor_pool_info
short_description: Tell whether an HTCondor pool is healthy and what it holds
version_added: 0.1.0
description:
  - Reads an HTCondor pool from its collector with the C(htcondor2) Python bindings. It reports the daemons present
    and when each was last heard from, slots by state and activity, CPUs, memory and GPUs total, claimed and
    unclaimed, jobs idle, running and held per schedd, and the negotiator's last cycle.
  - Gives a verdict, C(healthy), C(degraded) or C(down), with the reasons.
  - Partitionable slots count their machine's resources once; claims are counted from dynamic and static slots,
    so nothing is counted twice.
  - Job counts come from the schedds' ads in the collector, which each schedd refreshes every C(SCHEDD_INTERVAL).
  - Optionally renders the figures as InfluxDB line protocol or Prometheus text, returned and written to a file.
  - Read-only towards the pool. An unreachable collector or a refused token gives verdict C(down) with the reason;
    the module itself fails only on bad arguments or missing bindings.
author:
  - ESG Pulsar Network engineers (@esg-pulsar-network)
extends_documentation_fragment:
  - esg.pulsar_network.htcondor_collector
options:
  max_ad_age:
    description: A negotiator, schedd or master not heard from for longer than this many seconds makes the pool C(degraded).
    type: int
    default: 900
  expected_schedds:
    description: Schedds (by name or machine) whose absence makes the pool C(degraded).
    type: list
    elements: str
    default: []
  expected_execute_nodes:
    description: Execute machines (the slots' C(Machine)) whose absence makes the pool C(degraded).
    type: list
    elements: str
    default: []
  metrics_format:
    description: Render the figures for a monitoring pipeline.
    type: str
    choices: [none, influx, prometheus]
    default: none
  metrics_path:
    description:
      - Write the rendered metrics to this file (for example in node_exporter's textfile directory), atomically.
      - Needs O(metrics_format). In check mode the file is left alone and C(changed) tells whether it would change.
    type: path
  pool_label:
    description: Name of the pool in metrics. Defaults to the collector's C(COLLECTOR_NAME), else its address.
    type: str
attributes:
  check_mode:
    support: full
    description: Reads only; with O(metrics_path) the file is written only outside check mode.
  diff_mode:
    support: none
    description: Nothing to show a diff of.
notes:
  - Run it where the bindings are installed, usually the controller (with C(delegate_to=localhost)).
"""

EXAMPLES = r"""
- name: Is the pool healthy?
  esg.pulsar_network.htcondor_pool_info:
    collector: cm.pulsar.example.org
    token_file: /etc/pulsar-network/pool-reader.token
    expected_schedds: [pulsar-head.example.org]
  delegate_to: localhost
  register: pool

- name: Fail unless it is
  ansible.builtin.assert:
    that: pool.verdict == 'healthy'
    fail_msg: "{{ pool.reasons | join('; ') }}"

- name: Feed node_exporter's textfile collector every run
  esg.pulsar_network.htcondor_pool_info:
    collector: cm.pulsar.example.org
    token_file: /etc/pulsar-network/pool-reader.token
    metrics_format: prometheus
    metrics_path: /var/lib/prometheus/node-exporter/htcondor_pool.prom
"""

RETURN = r"""
verdict:
  description: C(healthy), C(degraded) (see RV(reasons)) or C(down) (collector unreachable or refused the query).
  type: str
  returned: always
  sample: degraded
reasons:
  description: Why the pool is not healthy; empty when it is.
  type: list
  elements: str
  returned: always
  sample: ["expected execute node wn-12 is missing"]
collector_reachable:
  description: Whether the collector answered.
  type: bool
  returned: always
pool_name:
  description: The collector's C(COLLECTOR_NAME).
  type: str
  returned: when the collector answered
daemons:
  description: Ads per daemon kind (collector, negotiator, schedd, master), each with name, machine and seconds since last heard from.
  type: dict
  returned: when the collector answered
  sample: {"schedd": [{"name": "head.example.org", "machine": "head.example.org", "age_seconds": 4}]}
slots:
  description: Slot counts, total and by C(State), C(State/Activity) and C(SlotType); C(busy) and C(idle) by activity.
  type: dict
  returned: when the collector answered
  sample: {"total": 2, "by_state": {"Claimed": 1, "Unclaimed": 1}, "busy": 1, "idle": 1}
resources:
  description: C(cpus), C(memory_mb) and C(gpus), each with total, claimed and unclaimed.
  type: dict
  returned: when the collector answered
  sample: {"cpus": {"total": 16, "claimed": 4, "unclaimed": 12}}
execute_nodes:
  description: Machines with at least one slot.
  type: list
  elements: str
  returned: when the collector answered
jobs:
  description: Jobs idle, running and held, per schedd and in total.
  type: dict
  returned: when the collector answered
  sample: {"total": {"idle": 3, "running": 4, "held": 0}, "per_schedd": {"head.example.org": {"idle": 3, "running": 4, "held": 0}}}
negotiator:
  description: The negotiator's last cycle (duration, matches, rejections, seconds since it ended); null without a negotiator.
  type: dict
  returned: when the collector answered
metrics:
  description: The rendered metrics.
  type: str
  returned: when O(metrics_format) is not C(none)
metrics_path:
  description: Where the metrics were written (replaced atomically, only when they changed).
  type: str
  returned: when O(metrics_path) is given
  sample: /var/lib/prometheus/node-exporter/htcondor_pool.prom
error:
  description: Why the collector could not be read.
  type: str
  returned: when RV(verdict) is C(down)
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool_metrics as hpm
from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool_summary as hps


def write_metrics(module, path: str, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except OSError:
        pass
    if module.check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".htcondor_pool_info.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
    except OSError as err:
        module.fail_json(msg=f"cannot write metrics_path {path}: {err.strerror}")
    # atomic_move keeps an existing file's owner, mode and SELinux context, and fails the module with a reason.
    module.atomic_move(tmp, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            collector=dict(type="str"),
            token=dict(type="str", no_log=True),
            token_file=dict(type="path"),
            timeout=dict(type="int", default=20),
            max_ad_age=dict(type="int", default=900),
            expected_schedds=dict(type="list", elements="str", default=[]),
            expected_execute_nodes=dict(type="list", elements="str", default=[]),
            metrics_format=dict(type="str", choices=["none", "influx", "prometheus"], default="none"),
            metrics_path=dict(type="path"),
            pool_label=dict(type="str"),
        ),
        mutually_exclusive=[("token", "token_file")],
        supports_check_mode=True,
    )
    params = module.params
    if hp.HTCONDOR_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("htcondor (htcondor2 bindings)"), exception=hp.HTCONDOR_IMPORT_ERROR)
    if params["metrics_path"] and params["metrics_format"] == "none":
        module.fail_json(msg="metrics_path needs metrics_format (influx or prometheus)")
    if params["timeout"] <= 0 or params["max_ad_age"] <= 0:
        module.fail_json(msg="timeout and max_ad_age are seconds and must be positive")
    try:
        hp.split_collector(params["collector"])
        token = hp.read_token(params["token"], params["token_file"])
    except hp.PoolQueryError as err:
        module.fail_json(msg=str(err))

    now = time.time()
    try:
        client = hp.CollectorClient(params["collector"], token, params["timeout"])
        summary = hps.summarise_pool(client.read_pool(), now)
    except hp.PoolQueryError as err:
        summary = {"collector_reachable": False, "error": str(err)}
        client = None

    health, reasons = hps.verdict(summary, params["max_ad_age"], params["expected_schedds"], params["expected_execute_nodes"])
    result = dict(changed=False, verdict=health, reasons=reasons, **summary)

    if params["metrics_format"] != "none":
        label = params["pool_label"] or summary.get("pool_name") or (client.name if client else params["collector"] or "local")
        if params["metrics_format"] == "prometheus":
            text = hpm.prometheus_text(summary, label, health)
        elif summary["collector_reachable"]:
            text = hpm.influx_lines(summary, label, int(now * 1e9))
        else:
            text = ""
        result["metrics"] = text
        if params["metrics_path"]:
            result["changed"] = write_metrics(module, params["metrics_path"], text)
            result["metrics_path"] = params["metrics_path"]

    module.exit_json(**result)


if __name__ == "__main__":
    main()
