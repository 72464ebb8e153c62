# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: pulsar_endpoints
short_description: The Pulsar endpoints a RabbitMQ broker serves, with their queue health
version_added: 0.1.0
description:
  - Reads the broker's management API (a user with the C(monitoring) tag) and makes one host per Pulsar endpoint,
    that is per vhost and Pulsar manager whose setup queue exists (C(pulsar_MANAGER__setup), or C(pulsar__setup)
    for C(_default_)).
  - The host is named C(VHOST.MANAGER) with the vhost's slashes turned into dots (C(pulsar.site_a.production)).
  - Host vars C(pulsar_vhost), C(pulsar_manager), C(pulsar_queues) (per role setup, kill, status, status_update -
    ready and unacknowledged messages, consumers, publish and deliver rates), C(pulsar_verdict), C(pulsar_reasons)
    and C(pulsar_consumer_peers) (the addresses Pulsar consumes from).
  - Every host is in the group C(pulsar_endpoints); C(compose), C(groups) and C(keyed_groups) add more, for
    example a group per verdict.
  - Vhosts the user may not read (no permission entry, as for C(/) with the C(rabbitmq) role's monitoring user)
    are skipped; wrong credentials still fail.
  - The configuration file's name must end in C(pulsar_endpoints.yml) or C(pulsar_endpoints.yaml).
extends_documentation_fragment:
  - esg.pulsar_network.cached_inventory
  - esg.pulsar_network.rabbitmq_broker
  - constructed
  - inventory_cache
options:
  plugin:
    choices: [esg.pulsar_network.pulsar_endpoints]
  vhost_pattern:
    description: Only vhosts whose name matches this regular expression.
    type: str
    default: ".*"
"""

EXAMPLES = r"""
# broker.pulsar_endpoints.yml
plugin: esg.pulsar_network.pulsar_endpoints
management_url: https://mq.example.org:15671
management_user: monitoring
management_password: "{{ lookup('ansible.builtin.env', 'RABBITMQ_MONITORING_PASSWORD') }}"
ca_file: /etc/ssl/certs/pulsar-network-ca.pem
keyed_groups:
  - key: pulsar_verdict
    prefix: verdict
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-pulsar-endpoints
cache_timeout: 60

# ansible-inventory -i broker.pulsar_endpoints.yml --graph
"""

import re

from ansible.errors import AnsibleParserError

from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError
from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import (
    PULSAR_CONSUMED,
    manager_from_setup_queue,
    pulsar_queue_names,
)
from ansible_collections.esg.pulsar_network.plugins.module_utils.rabbitmq_api import ManagementApi
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import endpoint_verdict
from ansible_collections.esg.pulsar_network.plugins.plugin_utils.cached_inventory import CachedInventory


def endpoints_from_queues(vhost: str, details: dict, peers: dict, max_ready: int) -> dict:
    """{host name: facts} for every Pulsar manager with a setup queue in this vhost."""
    endpoints = {}
    for queue in sorted(details):
        manager = manager_from_setup_queue(queue)
        if manager is None:
            continue
        roles = pulsar_queue_names(manager)
        figures = {name: details.get(name, {"exists": False, "messages_ready": 0, "consumers": 0}) for name in roles.values()}
        judged = endpoint_verdict(figures, {role: roles[role] for role in PULSAR_CONSUMED}, max_backlog=max_ready)
        consumed = [peer for role in PULSAR_CONSUMED for peer in peers.get(roles[role], [])]
        host = ".".join(part for part in vhost.split("/") if part) + f".{manager}"
        endpoints[host.lstrip(".")] = {
            "vhost": vhost,
            "manager": manager,
            "queues": {role: {k: v for k, v in figures[name].items() if k != "consumer_peers"} for role, name in roles.items()},
            "verdict": judged["verdict"],
            "reasons": judged["reasons"],
            "consumer_peers": sorted(set(consumed)),
        }
    return endpoints


class InventoryModule(CachedInventory):
    NAME = "esg.pulsar_network.pulsar_endpoints"
    GROUP = "pulsar_endpoints"
    VAR_PREFIX = "pulsar_"

    def read_hosts(self) -> dict:
        for option in ("management_url", "management_user", "management_password"):
            if not self.get_option(option):
                raise AnsibleParserError(f"pulsar_endpoints: set {option} (the broker's management API and a monitoring user)")
        api = ManagementApi(self.get_option("management_url"), self.get_option("management_user"),
                            self.get_option("management_password"), self.get_option("ca_file"),
                            self.get_option("validate_certs"), self.get_option("timeout"))
        pattern = re.compile(self.get_option("vhost_pattern"))
        endpoints = {}
        try:
            vhosts = [vhost for vhost in api.vhosts() if pattern.search(vhost)]
        except BrokerError as err:
            raise AnsibleParserError(f"pulsar_endpoints: {err}") from None
        for vhost in vhosts:
            try:
                details, peers = api.queues(vhost), api.consumer_peers(vhost)
            except BrokerError as err:
                if err.kind != "auth_failed":
                    raise AnsibleParserError(f"pulsar_endpoints: {err}") from None
                # The credentials worked for the vhost list, so this vhost is just not the monitoring user's.
                self.display.vvv(f"pulsar_endpoints: skipping vhost {vhost}: {err}")
                continue
            endpoints.update(endpoints_from_queues(vhost, details, peers, self.get_option("max_ready")))
        return endpoints
