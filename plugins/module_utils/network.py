# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks across the whole network as one inventory describes it: the broker's endpoints (rabbitmq_pulsar_endpoints),
each Galaxy server's Pulsar runners (usegalaxy_replica_pulsar_endpoints) and each Pulsar head's Galaxy servers
(pulsar_galaxy_servers and the staging directories the pulsar role derives). Each role checks its own settings; these
are the mistakes that only show between hosts. Pure functions; a reason names hosts, endpoints and vhosts, never a
URL's password."""

from __future__ import annotations

import hashlib
import hmac
import re

from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import UrlError, parse_url
from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import secret_problem
from ansible_collections.esg.pulsar_network.plugins.module_utils.tool_containers import RUNTIMES, destination_params


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


# --- One description of the network (pulsar_network), from which each role's variables derive ---------------------
#
# pulsar_network:
#   broker: {host: mq.example.org, port: 5671}
#   galaxy_servers: [{name: usegalaxy_eu}, ...]
#   endpoints:
#     - {name: site_a, password: VAULTED, galaxy_servers: [usegalaxy_eu], staging_root: /srv/pulsar/staging,
#        manager: production, cores: 16, mem: 64, gpus: 0, tags: [hpc], container_runtime: podman, state: present}
#   containers:   # the network's job images (module_utils/tool_containers.py): what each provides
#     - {image: registry.example.org/tools/samtools:1.21, provides: [samtools=1.21]}
#   node_software: [coreutils]   # what every execute node has without a container (default: coreutils)
#
# state: present, draining (offboarding: its vhosts, users, Pulsar services and Galaxy runners stay so that running
# jobs finish, but no Galaxy routes a new job there) or absent (all of them removed).
#
# Each (endpoint, Galaxy server) pair gets its own vhost, /pulsar/ENDPOINT/GALAXY, and user, ENDPOINT.GALAXY: a Pulsar
# head runs one service per Galaxy server, and two services on one vhost would consume each other's queues.
#
# Each pair's user also gets its own password (pair_password), derived from the endpoint's password, which stays the
# endpoint's root secret: the broker gets every pair's password, a Pulsar head those of its endpoint's pairs, and a
# Galaxy server (or the TES service, one more client) only those of its own pairs. None of them gets the root secret;
# the provider's join file carries it, since its head serves every client of the endpoint.

ENDPOINT_DEFAULTS = {"staging_root": "/srv/pulsar/staging", "manager": "production", "cores": 1, "mem": 4, "gpus": 0,
                     "tags": [], "container_runtime": "none", "state": "present"}
STATES = ("present", "draining", "absent")


def _kept(state: str) -> str:
    """A draining endpoint keeps its vhosts, users and Pulsar services until its jobs have finished."""
    return "absent" if state == "absent" else "present"


def _endpoints(network: dict) -> list[dict]:
    every_galaxy = [galaxy["name"] for galaxy in network.get("galaxy_servers") or []]
    return [{**ENDPOINT_DEFAULTS, "galaxy_servers": every_galaxy, **endpoint} for endpoint in network.get("endpoints") or []]


def _endpoint(network: dict, name: str) -> dict:
    """The endpoint NAME of the description, with its defaults; ValueError when there is none."""
    endpoint = next((e for e in _endpoints(network) if e["name"] == name), None)
    if endpoint is None:
        raise ValueError(f"pulsar_network has no endpoint named {name}")
    return endpoint


def pair_vhost(endpoint: str, galaxy: str) -> str:
    return f"/pulsar/{endpoint}/{galaxy}"


def pair_user(endpoint: str, galaxy: str) -> str:
    return f"{endpoint}.{galaxy}"


PAIR_PASSWORD_CONTEXT = "pulsar-network amqp v1 "


def pair_password(secret: str, endpoint: str, galaxy: str) -> str:
    """The password of the pair's user: HMAC-SHA256 of "pulsar-network amqp v1 ENDPOINT.GALAXY" keyed with the
    endpoint's password, in hex. The same inputs give the same password on every converge (the rabbitmq role changes a
    user's password only when it differs); one pair's password reveals neither the secret nor another pair's. Hex
    needs no quoting in a URL and cannot spell a placeholder (module_utils/secrets.py). Names are [A-Za-z0-9_], so
    the '.' between them is unambiguous."""
    message = f"{PAIR_PASSWORD_CONTEXT}{pair_user(endpoint, galaxy)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _pair_password(endpoint: dict, galaxy: str) -> str | None:
    """None for an endpoint without a password: an absent one needs none (description_problems refuses the rest)."""
    secret = endpoint.get("password")
    return pair_password(secret, endpoint["name"], galaxy) if isinstance(secret, str) and secret else None


def _url(network: dict, endpoint: dict, galaxy: str) -> str:
    broker = network["broker"]
    return (f"pyamqp://{pair_user(endpoint['name'], galaxy)}:{_pair_password(endpoint, galaxy)}@{broker['host']}:"
            f"{broker.get('port', 5671)}/{pair_vhost(endpoint['name'], galaxy)}?ssl=1")


def broker_endpoints(network: dict) -> list[dict]:
    """rabbitmq_pulsar_endpoints: a vhost, user and password per (endpoint, Galaxy server); an absent endpoint's are
    removed."""
    return [{"name": pair_user(endpoint["name"], galaxy), "user": pair_user(endpoint["name"], galaxy),
             "vhost": pair_vhost(endpoint["name"], galaxy), "password": _pair_password(endpoint, galaxy),
             "state": _kept(endpoint["state"])}
            for endpoint in _endpoints(network) for galaxy in endpoint["galaxy_servers"]]


def pulsar_servers(network: dict, endpoint_name: str) -> list[dict]:
    """pulsar_galaxy_servers of ENDPOINT_NAME's head: one Pulsar service per Galaxy server it serves."""
    endpoint = _endpoint(network, endpoint_name)
    return [{"name": galaxy, "message_queue_url": _url(network, endpoint, galaxy),
             "staging_directory": f"{endpoint['staging_root'].rstrip('/')}/{galaxy}", "state": _kept(endpoint["state"])}
            for galaxy in endpoint["galaxy_servers"]]


def galaxy_endpoints(network: dict, galaxy_name: str) -> list[dict]:
    """usegalaxy_replica_pulsar_endpoints of GALAXY_NAME: a runner and a TPV destination per present endpoint it uses,
    a runner alone (draining: true) per draining one; jobs_directory is where that endpoint's Pulsar stages this
    Galaxy's jobs, by construction. Each URL carries this Galaxy's pair password, never the endpoint's password."""
    return [{"name": endpoint["name"], "amqp_url": _url(network, endpoint, galaxy_name), "manager": endpoint["manager"],
             "jobs_directory": f"{endpoint['staging_root'].rstrip('/')}/{galaxy_name}", "cores": endpoint["cores"],
             "mem": endpoint["mem"], "gpus": endpoint["gpus"], "tags": endpoint["tags"],
             "container_params": destination_params(endpoint["container_runtime"]),
             "draining": endpoint["state"] == "draining"}
            for endpoint in _endpoints(network)
            if endpoint["state"] != "absent" and galaxy_name in endpoint["galaxy_servers"]]


def join_description(network: dict, endpoint_name: str) -> dict:
    """The part of pulsar_network a provider needs to run ENDPOINT_NAME's Pulsar head (the join file): the broker,
    the Galaxy servers it serves and that endpoint alone, with its password (the root its head derives each Galaxy
    server's pair password from)."""
    endpoint = _endpoint(network, endpoint_name)
    return {"broker": {"host": network["broker"]["host"], "port": network["broker"].get("port", 5671)},
            "galaxy_servers": [{"name": galaxy} for galaxy in endpoint["galaxy_servers"]],
            "endpoints": [endpoint]}


def description_problems(network: dict) -> list[str]:
    """What makes a pulsar_network description unusable, one line each, without passwords."""
    problems = []
    if not (network.get("broker") or {}).get("host"):
        problems.append("pulsar_network.broker.host is missing: the name Pulsar and Galaxy connect to over TLS")
    galaxies = [galaxy.get("name", "") for galaxy in network.get("galaxy_servers") or []]
    names = [endpoint.get("name", "") for endpoint in network.get("endpoints") or []]
    for kind, listed in (("galaxy_servers", galaxies), ("endpoints", names)):
        bad = [name for name in listed if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_]*$", name)]
        if bad:
            problems.append(f"pulsar_network.{kind} names must be letters, digits and '_': {', '.join(map(repr, bad))}")
        twice = sorted({name for name in listed if listed.count(name) > 1})
        if twice:
            problems.append(f"pulsar_network.{kind} names appear twice: {', '.join(twice)}")
    for endpoint in _endpoints(network):
        unknown = [galaxy for galaxy in endpoint["galaxy_servers"] if galaxy not in galaxies]
        if unknown:
            problems.append(f"pulsar_network endpoint {endpoint.get('name')}: unknown Galaxy servers {', '.join(unknown)}")
        if endpoint["state"] != "absent" and not endpoint["galaxy_servers"]:
            problems.append(f"pulsar_network endpoint {endpoint.get('name')} serves no Galaxy server")
        if endpoint["state"] not in STATES:
            problems.append(f"pulsar_network endpoint {endpoint.get('name')}: state must be one of {', '.join(STATES)}")
        # Every pair's password derives from it: a weak one would pass the roles' checks of the derived passwords.
        weak = "" if endpoint["state"] == "absent" else secret_problem("password", endpoint.get("password"))
        if weak:
            problems.append(f"pulsar_network endpoint {endpoint.get('name')}: the {weak}")
        if endpoint["container_runtime"] not in RUNTIMES:
            problems.append(f"pulsar_network endpoint {endpoint.get('name')}: container_runtime must be one of "
                            f"{', '.join(RUNTIMES)}")
    return (problems + containers_problems(network.get("containers"))
            + node_software_problems(network.get("node_software")))


# An image as podman, docker and apptainer's docker:// read one: [REGISTRY[:PORT]/]PATH[:TAG][@DIGEST], nothing else.
IMAGE = r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._/-]*[a-z0-9])?)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
PROVIDED = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(=[A-Za-z0-9_][A-Za-z0-9_.+-]*)?$"


def containers_problems(containers) -> list[str]:
    """What makes pulsar_network.containers unusable: a list of {image, provides: [NAME or NAME=VERSION, ...]}."""
    if containers is None:
        return []
    if not isinstance(containers, list):
        return ["pulsar_network.containers must be a list of {image, provides}"]
    problems = []
    for index, entry in enumerate(containers):
        where = f"pulsar_network.containers[{index}]"
        if not isinstance(entry, dict) or sorted(entry) != ["image", "provides"]:
            problems.append(f"{where} must have exactly image and provides")
            continue
        if not isinstance(entry["image"], str) or not re.match(IMAGE, entry["image"]):
            problems.append(f"{where}.image is not an image reference ([REGISTRY/]NAME[:TAG]): {entry['image']!r}")
        if not entry["provides"] or not requirements_listed(entry["provides"]):
            problems.append(f"{where}.provides must list requirements as NAME or NAME=VERSION: {entry['provides']!r}")
    return problems


def requirements_listed(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and re.match(PROVIDED, item) for item in value)


def node_software_problems(node_software) -> list[str]:
    if node_software is None or requirements_listed(node_software):
        return []
    return [f"pulsar_network.node_software must list requirements as NAME or NAME=VERSION: {node_software!r}"]
