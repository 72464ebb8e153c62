# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""RabbitMQ's management HTTP API, read-only: the figures the AMQP path (broker.py) cannot see.

Used by the rabbitmq_queue_info module and the pulsar_endpoints inventory plugin. Failures are broker.BrokerError,
in the broker's one vocabulary.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError


class ManagementApi:
    """RabbitMQ's management HTTP API, read-only."""

    def __init__(self, url: str, username: str, password: str, ca_file=None, validate_certs=True, timeout=10.0):
        self.url = url.rstrip("/")
        self.options = dict(url_username=username, url_password=password, force_basic_auth=True, timeout=timeout,
                            validate_certs=validate_certs, ca_path=ca_file, headers={"Accept": "application/json"})

    def get(self, path: str, **params):
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with open_url(f"{self.url}/api/{path}{query}", **self.options) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            if err.code in (401, 403):
                raise BrokerError("auth_failed", f"management API {self.url} refused the credentials "
                                                 f"(HTTP {err.code}); the user needs the monitoring tag") from None
            if err.code == 404:
                return None
            raise BrokerError("error", f"management API {self.url}/api/{path} answered HTTP {err.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise BrokerError("unreachable", f"management API {self.url} is unreachable: {reason}") from None

    def vhosts(self) -> list[str]:
        return [v["name"] for v in self.get("vhosts", columns="name") or []]

    def queues(self, vhost: str) -> dict:
        """{queue: details} with the figures the AMQP path cannot see."""
        rows = self.get(f"queues/{urllib.parse.quote(vhost, safe='')}",
                        columns="name,messages_ready,messages_unacknowledged,consumers,idle_since,message_stats")
        details = {}
        for row in rows or []:
            stats = row.get("message_stats") or {}
            details[row["name"]] = {
                "exists": True,
                "messages_ready": row.get("messages_ready", 0),
                "messages_unacknowledged": row.get("messages_unacknowledged", 0),
                "consumers": row.get("consumers", 0),
                "idle_since": row.get("idle_since"),
                "publish_rate": (stats.get("publish_details") or {}).get("rate", 0.0),
                "deliver_rate": (stats.get("deliver_get_details") or {}).get("rate", 0.0),
                "consumer_peers": [],
            }
        return details

    def consumer_peers(self, vhost: str) -> dict:
        """{queue: [peer host, ...]} from the consumers list."""
        peers = {}
        for consumer in self.get(f"consumers/{urllib.parse.quote(vhost, safe='')}") or []:
            queue = (consumer.get("queue") or {}).get("name")
            peer = (consumer.get("channel_details") or {}).get("peer_host")
            if queue and peer and peer not in peers.setdefault(queue, []):
                peers[queue].append(peer)
        return peers
