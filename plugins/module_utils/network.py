# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks across the whole network as one inventory describes it: the broker's endpoints (rabbitmq_pulsar_endpoints),
each Galaxy server's Pulsar runners (usegalaxy_replica_pulsar_endpoints) and each Pulsar head's Galaxy servers
(pulsar_galaxy_servers and the staging directories the pulsar role derives). Each role checks its own settings; these
are the mistakes that only show between hosts. Pure functions; a reason names hosts, endpoints and vhosts, never a
URL's password."""

from __future__ import annotations

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import UrlError, parse_url


def _present(items: list[dict]) -> list[dict]:
    return [item for item in items or [] if item.get("state", "present") == "present"]


def _vhost(url: str) -> tuple[str | None, str]:
    """The URL's vhost, or None and why (UrlError's reason never repeats the URL's credentials)."""
    try:
        return parse_url(url)["vhost"], ""
    except UrlError as error:
        return None, str(error)


def _broker_vhost(endpoint: dict) -> str:
    """The vhost of a rabbitmq_pulsar_endpoints item, with the rabbitmq role's default."""
    return endpoint.get("vhost") or f"/pulsar/{endpoint['name']}"


def _shared(owners: dict[str, list[str]]) -> list[str]:
    """'a and b share vhost /v' for each vhost that more than one owner uses."""
    return [f"{' and '.join(sorted(names))} share vhost {vhost}" for vhost, names in sorted(owners.items())
            if len(names) > 1]


def network_problems(brokers: dict, galaxies: dict, heads: dict, staging: dict) -> list[str]:
    """One-line reasons why the network cannot work; empty when it can.

    brokers: {broker host: rabbitmq_pulsar_endpoints}; galaxies: {Galaxy host: usegalaxy_replica_pulsar_endpoints};
    heads: {Pulsar head: pulsar_galaxy_servers}; staging: {Pulsar head: {Galaxy server name: staging directory}}.
    A part the inventory does not hold (a provider's inventory has no Galaxy server) is not checked against.
    """
    problems = []

    # The broker's vhosts: one per endpoint.
    served: set[str] = set()
    for broker, endpoints in sorted(brokers.items()):
        owners: dict[str, list[str]] = {}
        for endpoint in _present(endpoints):
            owners.setdefault(_broker_vhost(endpoint), []).append(endpoint["name"])
        served |= set(owners)
        problems += [f"broker {broker}: endpoints {shared}" for shared in _shared(owners)]

    # Who consumes each vhost (Pulsar heads) and who sends to it (Galaxy servers).
    consumers: dict[str, list[str]] = {}  # vhost -> ["head/server"]
    staged: dict[str, str] = {}  # vhost -> the staging directory of the Pulsar that consumes it
    for head, servers in sorted(heads.items()):
        for server in _present(servers):
            where = f"Pulsar head {head}, Galaxy server {server['name']}"
            vhost, why = _vhost(server.get("message_queue_url", ""))
            if vhost is None:
                problems.append(f"{where}: message_queue_url: {why}")
                continue
            if brokers and vhost not in served:
                problems.append(f"{where}: message_queue_url names vhost {vhost}, which no broker in the inventory serves")
            consumers.setdefault(vhost, []).append(f"{head}/{server['name']}")
            if (staging.get(head) or {}).get(server["name"]):  # unknown for a head outside a --limit
                staged[vhost] = staging[head][server["name"]]
    problems += [f"Pulsar servers {shared}: they would take each other's jobs" for shared in _shared(consumers)]

    used: set[str] = set()
    for galaxy, endpoints in sorted(galaxies.items()):
        senders: dict[str, list[str]] = {}
        for endpoint in endpoints or []:
            where = f"Galaxy server {galaxy}, endpoint {endpoint['name']}"
            vhost, why = _vhost(endpoint.get("amqp_url", ""))
            if vhost is None:
                problems.append(f"{where}: amqp_url: {why}")
                continue
            senders.setdefault(vhost, []).append(endpoint["name"])
            used.add(vhost)
            if brokers and vhost not in served:
                problems.append(f"{where}: amqp_url names vhost {vhost}, which no broker in the inventory serves")
            jobs_directory = endpoint.get("jobs_directory", "")
            if vhost in staged and jobs_directory.rstrip("/") != staged[vhost].rstrip("/"):
                problems.append(f"{where}: jobs_directory {jobs_directory} is not where Pulsar "
                                f"({consumers[vhost][0]}) stages this Galaxy's jobs, {staged[vhost]}")
        problems += [f"Galaxy server {galaxy}: endpoints {shared}" for shared in _shared(senders)]

    if galaxies:
        for broker, endpoints in sorted(brokers.items()):
            for endpoint in _present(endpoints):
                vhost = _broker_vhost(endpoint)
                if vhost not in used:
                    problems.append(f"broker {broker}: endpoint {endpoint['name']} (vhost {vhost}) is used by no Galaxy "
                                    "server in the inventory: add it to a usegalaxy_replica_pulsar_endpoints, or set its "
                                    "state to absent")
    return problems
