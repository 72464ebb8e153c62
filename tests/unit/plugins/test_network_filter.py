"""The network preflight's checks between hosts: each mistake the roles cannot see alone gives a reason naming the
hosts, endpoints and vhosts involved, never a password; a network that can work gives none."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.filter.network import FilterModule

network_problems = FilterModule().filters()["network_problems"]

PASSWORD = "VERYSECRET-amqp-pw"


def url(user, vhost, scheme="pyamqp"):
    return f"{scheme}://{user}:{PASSWORD}@mq.example.org:5671//{vhost}?ssl=1"


def network():
    """Two endpoints, one Galaxy server that uses both, and their two Pulsar heads: a network that works."""
    brokers = {"mq": [{"name": "site_a", "password": PASSWORD}, {"name": "site_b", "password": PASSWORD},
                      {"name": "gone", "password": PASSWORD, "state": "absent"}]}
    galaxies = {"galaxy": [
        {"name": "site_a", "amqp_url": url("site_a", "pulsar/site_a"), "jobs_directory": "/srv/pulsar/staging/eu"},
        {"name": "site_b", "amqp_url": url("site_b", "pulsar/site_b"), "jobs_directory": "/data/staging/eu/"},
    ]}
    heads = {"head-a": [{"name": "eu", "message_queue_url": url("site_a", "pulsar/site_a")}],
             "head-b": [{"name": "eu", "message_queue_url": url("site_b", "pulsar/site_b")}]}
    staging = {"head-a": {"eu": "/srv/pulsar/staging/eu"}, "head-b": {"eu": "/data/staging/eu"}}
    return brokers, galaxies, heads, staging


def test_a_network_that_works_has_no_problem():
    assert network_problems(*network()) == []


def test_parts_the_inventory_does_not_hold_are_not_checked_against():
    brokers, galaxies, heads, staging = network()
    assert network_problems({}, {}, heads, staging) == []  # a provider's inventory: its head only
    assert network_problems(brokers, galaxies) == []  # an operator's: the broker and Galaxy, no head
    assert network_problems(brokers) == []  # the broker alone: nobody to use its endpoints yet


def mistake(name):
    brokers, galaxies, heads, staging = network()
    if name == "two endpoints on one vhost at the broker":
        brokers["mq"][1]["vhost"] = "/pulsar/site_a"
    elif name == "two Pulsar servers on one vhost":
        heads["head-b"][0]["message_queue_url"] = url("site_a", "pulsar/site_a")
    elif name == "a Galaxy URL on a vhost the broker does not serve":
        galaxies["galaxy"][1]["amqp_url"] = url("site_b", "pulsar/site_c")
    elif name == "a Pulsar URL on a vhost the broker does not serve":
        heads["head-b"][0]["message_queue_url"] = url("site_b", "site_b")
    elif name == "a jobs_directory that is not where Pulsar stages":
        galaxies["galaxy"][0]["jobs_directory"] = "/srv/pulsar/staging/usegalaxy_eu"
    elif name == "an endpoint that no Galaxy server uses":
        galaxies["galaxy"].pop()
        del heads["head-b"]
    elif name == "a URL that is not one":
        galaxies["galaxy"][0]["amqp_url"] = f"site_a:{PASSWORD}@mq.example.org"
    return network_problems(brokers, galaxies, heads, staging)


@pytest.mark.parametrize("name, reason", [
    ("two endpoints on one vhost at the broker", "broker mq: endpoints site_a and site_b share vhost /pulsar/site_a"),
    ("two Pulsar servers on one vhost",
     "Pulsar servers head-a/eu and head-b/eu share vhost /pulsar/site_a: they would take each other's jobs"),
    ("a Galaxy URL on a vhost the broker does not serve",
     "Galaxy server galaxy, endpoint site_b: amqp_url names vhost /pulsar/site_c, which no broker in the inventory serves"),
    ("a Pulsar URL on a vhost the broker does not serve",
     "Pulsar head head-b, Galaxy server eu: message_queue_url names vhost /site_b, which no broker in the inventory serves"),
    ("a jobs_directory that is not where Pulsar stages",
     "Galaxy server galaxy, endpoint site_a: jobs_directory /srv/pulsar/staging/usegalaxy_eu is not where Pulsar "
     "(head-a/eu) stages this Galaxy's jobs, /srv/pulsar/staging/eu"),
    ("an endpoint that no Galaxy server uses",
     "broker mq: endpoint site_b (vhost /pulsar/site_b) is used by no Galaxy server in the inventory"),
    ("a URL that is not one", "Galaxy server galaxy, endpoint site_a: amqp_url: AMQP URL must look like"),
])
def test_each_mistake_is_named_without_the_password(name, reason):
    problems = mistake(name)
    assert any(problem.startswith(reason) for problem in problems), problems
    assert PASSWORD not in " ".join(problems)


def test_two_endpoints_of_one_galaxy_server_on_one_vhost():
    brokers, galaxies, heads, staging = network()
    galaxies["galaxy"][1]["amqp_url"] = galaxies["galaxy"][0]["amqp_url"]
    galaxies["galaxy"][1]["jobs_directory"] = galaxies["galaxy"][0]["jobs_directory"]
    problems = network_problems(brokers, galaxies, heads, staging)
    assert "Galaxy server galaxy: endpoints site_a and site_b share vhost /pulsar/site_a" in problems
