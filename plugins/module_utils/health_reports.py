# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""An endpoint's health report, carried over the broker on the endpoint's own vhost.

The endpoint (its watchdog, on the Pulsar head) publishes; the Galaxy side reads. The queue keeps only the latest
report (x-max-length 1, dropping the oldest), and a reader puts back what it read, so several readers may look and
none needs an inbound port at the provider. The report carries its own time: verdict.endpoint_verdict treats an old
one as unknown.
"""

from __future__ import annotations

import json

from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import kombu, opened
from ansible_collections.esg.pulsar_network.plugins.module_utils.routing import HEALTH_QUEUE

QUEUE_ARGUMENTS = {"x-max-length": 1, "x-overflow": "drop-head"}


def publish_report(url: str, report: dict, ca_file: str | None = None, timeout: float = 10.0) -> None:
    """Replace the report waiting on URL's vhost with REPORT. Raises BrokerError when the broker cannot be used."""
    with opened(url, ca_file, timeout=timeout) as conn:
        channel = conn.channel()
        channel.queue_declare(queue=HEALTH_QUEUE, durable=True, auto_delete=False, arguments=QUEUE_ARGUMENTS)
        kombu.Producer(channel).publish(report, exchange="", routing_key=HEALTH_QUEUE, serializer="json")


def peek_report(url: str, ca_file: str | None = None, timeout: float = 10.0) -> dict | None:
    """The report waiting on URL's vhost, left in place; None when the endpoint has published none (or another
    reader holds it this instant). Raises BrokerError when the broker cannot be used."""
    with opened(url, ca_file, timeout=timeout) as conn:
        channel = conn.channel()
        try:
            channel.queue_declare(queue=HEALTH_QUEUE, passive=True)
        except conn.channel_errors:  # never published: no queue yet
            return None
        message = channel.basic_get(queue=HEALTH_QUEUE, no_ack=False)
        if message is None:
            return None
        channel.basic_reject(message.delivery_tag, requeue=True)
    try:
        report = json.loads(message.body)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None
