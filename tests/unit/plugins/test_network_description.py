"""One description of the network (pulsar_network): the broker's, each Pulsar head's and each Galaxy server's variables
derive from it, and what derives passes the network preflight by construction."""
import copy
import hashlib
import hmac
import json
import urllib.parse

from ansible_collections.esg.pulsar_network.plugins.module_utils import network
from ansible_collections.esg.pulsar_network.plugins.module_utils.amqp import parse_url, url_problem
from ansible_collections.esg.pulsar_network.plugins.module_utils.secrets import secret_problem

PASSWORD = "VERYSECRET-amqp-pw"
NETWORK = {
    "broker": {"host": "mq.example.org"},
    "galaxy_servers": [{"name": "usegalaxy_eu"}, {"name": "usegalaxy_org"}],
    "endpoints": [
        {"name": "site_a", "password": PASSWORD, "cores": 16, "mem": 64, "tags": ["hpc"]},
        {"name": "site_b", "password": PASSWORD, "galaxy_servers": ["usegalaxy_eu"], "staging_root": "/data/staging/"},
        {"name": "site_c", "password": PASSWORD, "state": "absent"},
    ],
}


def test_each_endpoint_and_galaxy_pair_gets_its_own_vhost_and_user():
    entries = network.broker_endpoints(NETWORK)
    assert [(e["name"], e["vhost"], e["state"]) for e in entries] == [
        ("site_a.usegalaxy_eu", "/pulsar/site_a/usegalaxy_eu", "present"),
        ("site_a.usegalaxy_org", "/pulsar/site_a/usegalaxy_org", "present"),
        ("site_b.usegalaxy_eu", "/pulsar/site_b/usegalaxy_eu", "present"),
        ("site_c.usegalaxy_eu", "/pulsar/site_c/usegalaxy_eu", "absent"),
        ("site_c.usegalaxy_org", "/pulsar/site_c/usegalaxy_org", "absent"),
    ]


def test_a_head_serves_its_galaxy_servers_and_a_galaxy_sends_to_its_present_endpoints():
    servers = network.pulsar_servers(NETWORK, "site_b")
    assert servers == [{"name": "usegalaxy_eu", "staging_directory": "/data/staging/usegalaxy_eu", "state": "present",
                        "message_queue_url": f"pyamqp://site_b.usegalaxy_eu:{network.pair_password(PASSWORD, 'site_b', 'usegalaxy_eu')}"
                                             "@mq.example.org:5671//pulsar/site_b/usegalaxy_eu?ssl=1"}]
    assert [e["name"] for e in network.galaxy_endpoints(NETWORK, "usegalaxy_eu")] == ["site_a", "site_b"]
    assert [e["name"] for e in network.galaxy_endpoints(NETWORK, "usegalaxy_org")] == ["site_a"]
    site_a = network.galaxy_endpoints(NETWORK, "usegalaxy_eu")[0]
    assert (site_a["cores"], site_a["mem"], site_a["tags"], site_a["manager"]) == (16, 64, ["hpc"], "production")


def test_what_derives_from_one_description_passes_the_network_preflight():
    brokers = {"mq": network.broker_endpoints(NETWORK)}
    galaxies = {g: network.galaxy_endpoints(NETWORK, g) for g in ("usegalaxy_eu", "usegalaxy_org")}
    heads = {e: network.pulsar_servers(NETWORK, e) for e in ("site_a", "site_b")}
    staging = {head: {s["name"]: s["staging_directory"] for s in servers} for head, servers in heads.items()}
    assert network.description_problems(NETWORK) == []
    assert network.network_problems(brokers, galaxies, heads, staging) == []


def test_a_description_that_cannot_work_is_refused_without_passwords():
    bad = {"galaxy_servers": [{"name": "eu"}, {"name": "eu"}],
           "endpoints": [{"name": "site a", "password": PASSWORD, "galaxy_servers": ["org"]}, {"name": "b", "galaxy_servers": []}]}
    problems = network.description_problems(bad)
    assert problems == [
        "pulsar_network.broker.host is missing: the name Pulsar and Galaxy connect to over TLS",
        "pulsar_network.galaxy_servers names appear twice: eu",
        "pulsar_network.endpoints names must be letters, digits and '_': 'site a'",
        "pulsar_network endpoint site a: unknown Galaxy servers org",
        "pulsar_network endpoint b serves no Galaxy server",
        "pulsar_network endpoint b: the password is empty: set it from a vault",
    ]
    assert PASSWORD not in " ".join(problems)


def test_a_draining_endpoint_keeps_its_vhosts_services_and_runners_but_is_flagged_for_galaxy():
    draining = {**NETWORK, "endpoints": [{**NETWORK["endpoints"][1], "state": "draining"}]}
    assert [e["state"] for e in network.broker_endpoints(draining)] == ["present"]
    assert [s["state"] for s in network.pulsar_servers(draining, "site_b")] == ["present"]
    assert [(e["name"], e["draining"]) for e in network.galaxy_endpoints(draining, "usegalaxy_eu")] == [("site_b", True)]
    assert [e["draining"] for e in network.galaxy_endpoints(NETWORK, "usegalaxy_eu")] == [False, False]
    assert network.description_problems(draining) == []
    assert network.description_problems({**NETWORK, "endpoints": [{"name": "x", "password": PASSWORD, "state": "gone"}]}) == [
        "pulsar_network endpoint x: state must be one of present, draining, absent"]


def test_the_join_file_describes_the_broker_its_galaxy_servers_and_that_endpoint_alone():
    join = network.join_description(NETWORK, "site_b")
    assert join["broker"] == {"host": "mq.example.org", "port": 5671}
    assert join["galaxy_servers"] == [{"name": "usegalaxy_eu"}]
    assert [e["name"] for e in join["endpoints"]] == ["site_b"]
    # What the provider's head derives from the join file is what it would derive from the whole description.
    assert network.pulsar_servers(join, "site_b") == network.pulsar_servers(NETWORK, "site_b")
    assert network.description_problems(join) == []


# --- Broker credentials: one password per (endpoint, client) pair (docs/security.md) --------------------------------
# Galaxy servers and the TES service are all clients of an endpoint; each pair's user gets a password of its own,
# derived from the endpoint's password (its root secret, which only the broker's converge and the endpoint's provider
# need), so one client holds nothing that logs in as another.

def _passwords(entries):
    return {entry["user"]: entry["password"] for entry in entries}


def _url_password(url):
    return parse_url(url)["password"]


def test_two_clients_of_one_endpoint_get_different_passwords():
    passwords = _passwords(network.broker_endpoints(NETWORK))
    assert passwords["site_a.usegalaxy_eu"] != passwords["site_a.usegalaxy_org"]
    # site_a and site_b share a root password in NETWORK: their pairs still differ.
    assert passwords["site_a.usegalaxy_eu"] != passwords["site_b.usegalaxy_eu"]
    present = [e["password"] for e in network.broker_endpoints(NETWORK) if e["state"] == "present"]
    assert len(set(present)) == len(present)


def test_the_same_description_gives_the_same_passwords_on_every_converge():
    again = copy.deepcopy(NETWORK)
    assert network.broker_endpoints(again) == network.broker_endpoints(NETWORK)
    assert network.galaxy_endpoints(again, "usegalaxy_eu") == network.galaxy_endpoints(NETWORK, "usegalaxy_eu")
    assert network.pulsar_servers(again, "site_a") == network.pulsar_servers(NETWORK, "site_a")
    # The derivation is fixed (v1): changing it would change every user's password on the broker.
    expected = hmac.new(PASSWORD.encode(), b"pulsar-network amqp v1 site_a.usegalaxy_eu", hashlib.sha256).hexdigest()
    assert _passwords(network.broker_endpoints(NETWORK))["site_a.usegalaxy_eu"] == expected


def test_a_client_holds_its_own_pairs_password_only():
    broker = _passwords(network.broker_endpoints(NETWORK))
    for client, others in (("usegalaxy_org", ["site_a.usegalaxy_eu", "site_b.usegalaxy_eu"]),
                           ("usegalaxy_eu", ["site_a.usegalaxy_org"])):
        endpoints = network.galaxy_endpoints(NETWORK, client)
        held = json.dumps(endpoints)
        assert PASSWORD not in held, f"{client} holds the endpoints' root password"
        for other in others:
            assert broker[other] not in held, f"{client} holds {other}'s password"
        for endpoint in endpoints:
            assert _url_password(endpoint["amqp_url"]) == broker[f"{endpoint['name']}.{client}"]


def test_the_tes_service_is_a_client_like_any_galaxy_server():
    with_tes = {**NETWORK, "galaxy_servers": NETWORK["galaxy_servers"] + [{"name": "tes"}]}
    broker = _passwords(network.broker_endpoints(with_tes))
    tes = json.dumps(network.galaxy_endpoints(with_tes, "tes"))
    assert PASSWORD not in tes
    assert broker["site_a.usegalaxy_eu"] not in tes and broker["site_a.usegalaxy_org"] not in tes
    assert broker["site_a.tes"] in tes
    assert broker["site_a.usegalaxy_eu"] not in json.dumps(network.galaxy_endpoints(with_tes, "usegalaxy_org"))


def test_the_broker_sets_each_pairs_password_and_the_head_uses_each_of_its_own():
    broker = _passwords(network.broker_endpoints(NETWORK))
    assert PASSWORD not in broker.values()  # the old scheme: the endpoint's password for every pair
    for server in network.pulsar_servers(NETWORK, "site_a"):
        assert _url_password(server["message_queue_url"]) == broker[f"site_a.{server['name']}"]
    # The provider's join file carries the endpoint's root secret; the head's URLs derive from it unchanged.
    join = network.join_description(NETWORK, "site_a")
    assert join["endpoints"][0]["password"] == PASSWORD
    assert network.pulsar_servers(join, "site_a") == network.pulsar_servers(NETWORK, "site_a")


def test_a_pair_password_passes_the_collections_secret_and_url_checks_unquoted():
    for endpoint in network.galaxy_endpoints(NETWORK, "usegalaxy_eu"):
        password = _url_password(endpoint["amqp_url"])
        assert urllib.parse.quote(password, safe="") == password
        assert secret_problem("password", password) == ""
        assert url_problem(endpoint["amqp_url"]) == ""


def test_a_weak_or_missing_endpoint_password_is_refused_without_printing_it():
    weak = {**NETWORK, "endpoints": [{"name": "site_a", "password": "CHANGE-ME: 32 random characters"},
                                     {"name": "site_b"}, {"name": "site_c", "state": "absent"}]}
    problems = network.description_problems(weak)
    assert problems == ["pulsar_network endpoint site_a: the password is a placeholder: set a random value from a vault",
                        "pulsar_network endpoint site_b: the password is empty: set it from a vault"]
    assert "CHANGE-ME" not in " ".join(problems)
