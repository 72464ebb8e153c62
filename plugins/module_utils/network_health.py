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

from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError, queue_figures
from ansible_collections.esg.pulsar_network.plugins.module_utils.health_reports import peek_report
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import MAX_AGE, MAX_BACKLOG, endpoint_verdict


def read_endpoint(endpoint: dict, roles: dict, ca_file: str | None, last_report: dict | None, on_unreachable=None):
    """The queues' figures (None when the broker cannot be read), the newest report seen, and the broker's failure
    as (kind, reason) or None."""
    try:
        queues = queue_figures(endpoint["amqp_url"], list(roles.values()), ca_file=ca_file)
        report = peek_report(endpoint["amqp_url"], ca_file=ca_file)
    except BrokerError as error:
        if on_unreachable:
            on_unreachable(endpoint["name"], str(error))
        return None, last_report, (error.kind, str(error))
    # Another reader may hold the report this instant: the last one seen still counts, by its own age.
    return queues, report or last_report, None


def collect(endpoints: list, previous: dict, ca_file: str | None = None, max_age: float = MAX_AGE,
            max_backlog: int = MAX_BACKLOG, on_unreachable=None) -> dict:
    """The health document routing.order_endpoints reads: {time, endpoints: {name: verdict entry and report}}.
    endpoints: [{name, amqp_url, manager, draining}]; previous: the last document (its reports stand in for one
    another reader holds this instant)."""
    now = time.time()
    document = {}
    for endpoint in endpoints:
        last = (previous.get("endpoints") or {}).get(endpoint["name"], {}).get("report")
        roles = pulsar_queue_names(endpoint.get("manager") or "production", ("setup",))
        queues, report, broker_error = read_endpoint(endpoint, roles, ca_file, last, on_unreachable)
        entry = endpoint_verdict(queues, roles, report, now, reports=True, max_age=max_age, max_backlog=max_backlog,
                                 draining=bool(endpoint.get("draining")), broker_error=broker_error)
        document[endpoint["name"]] = {**entry, "report": report}
    return {"time": now, "endpoints": document}
