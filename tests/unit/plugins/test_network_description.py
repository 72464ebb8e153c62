"""One description of the network (pulsar_network): the broker's, each Pulsar head's and each Galaxy server's variables
derive from it, and what derives passes the network preflight by construction."""
from ansible_collections.esg.pulsar_network.plugins.module_utils import network

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
                        "message_queue_url": f"pyamqp://site_b.usegalaxy_eu:{PASSWORD}@mq.example.org:5671//pulsar/site_b/usegalaxy_eu?ssl=1"}]
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
    ]
    assert PASSWORD not in " ".join(problems)


def test_a_draining_endpoint_keeps_its_vhosts_services_and_runners_but_is_flagged_for_galaxy():
    draining = {**NETWORK, "endpoints": [{**NETWORK["endpoints"][1], "state": "draining"}]}
    assert [e["state"] for e in network.broker_endpoints(draining)] == ["present"]
    assert [s["state"] for s in network.pulsar_servers(draining, "site_b")] == ["present"]
    assert [(e["name"], e["draining"]) for e in network.galaxy_endpoints(draining, "usegalaxy_eu")] == [("site_b", True)]
    assert [e["draining"] for e in network.galaxy_endpoints(NETWORK, "usegalaxy_eu")] == [False, False]
    assert network.description_problems(draining) == []
    assert network.description_problems({**NETWORK, "endpoints": [{"name": "x", "state": "gone"}]}) == [
        "pulsar_network endpoint x: state must be one of present, draining, absent"]


def test_the_join_file_describes_the_broker_its_galaxy_servers_and_that_endpoint_alone():
    join = network.join_description(NETWORK, "site_b")
    assert join["broker"] == {"host": "mq.example.org", "port": 5671}
    assert join["galaxy_servers"] == [{"name": "usegalaxy_eu"}]
    assert [e["name"] for e in join["endpoints"]] == ["site_b"]
    # What the provider's head derives from the join file is what it would derive from the whole description.
    assert network.pulsar_servers(join, "site_b") == network.pulsar_servers(NETWORK, "site_b")
    assert network.description_problems(join) == []
