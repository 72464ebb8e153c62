# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every endpoint's verdict as one sender of jobs sees it from the broker: what routing.py decides on.

For each endpoint, on the endpoint's own vhost and with the sender's own credentials: the setup queue's consumers and
backlog (passive declare) and the health report the endpoint's watchdog publishes there. Galaxy's health collector
(usegalaxy_replica's galaxy_network_health.py) and the TES service both call collect(); it asks nothing of the
provider but the broker.
"""

from __future__ import annotations

import time

from ansible_collections.esg.pulsar_network.plugins.module_utils.health_reports import peek_report
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_job import JobError, queue_figures
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.routing import MAX_AGE, MAX_BACKLOG, endpoint_verdict


def read_endpoint(endpoint: dict, ca_file: str | None, last_report: dict | None, on_unreachable=None):
    """The setup queue's figures (None when the broker cannot be read) and the newest report seen."""
    setup_queue = pulsar_queue_names(endpoint.get("manager") or "production", ("setup",))["setup"]
    try:
        setup = queue_figures(endpoint["amqp_url"], [setup_queue], ca_file=ca_file)[setup_queue]
        report = peek_report(endpoint["amqp_url"], ca_file=ca_file)
    except JobError as error:
        if on_unreachable:
            on_unreachable(endpoint["name"], str(error))
        return None, last_report
    # Another reader may hold the report this instant: the last one seen still counts, by its own age.
    return setup, report or last_report


def collect(endpoints: list, previous: dict, ca_file: str | None = None, max_age: float = MAX_AGE,
            max_backlog: int = MAX_BACKLOG, on_unreachable=None) -> dict:
    """The health document routing.order_endpoints reads: {time, endpoints: {name: verdict entry and report}}.
    endpoints: [{name, amqp_url, manager, draining}]; previous: the last document (its reports stand in for one
    another reader holds this instant)."""
    now = time.time()
    document = {}
    for endpoint in endpoints:
        last = (previous.get("endpoints") or {}).get(endpoint["name"], {}).get("report")
        setup, report = read_endpoint(endpoint, ca_file, last, on_unreachable)
        entry = endpoint_verdict(setup, report, now, max_age=max_age, max_backlog=max_backlog,
                                 draining=bool(endpoint.get("draining")))
        document[endpoint["name"]] = {**entry, "report": report}
    return {"time": now, "endpoints": document}
