"""AMQP URLs in the shapes Galaxy, Pulsar and pika users write, Pulsar's queue names, and endpoint verdicts."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import pulsar_queues as pq


@pytest.mark.parametrize("url, host, port, vhost, user, password, tls", [
    # Galaxy's job_conf / Pulsar's app.yml (kombu)
    ("pyamqp://galaxy_eu:s3cret@mq.example.org:5671//pulsar/galaxy_eu?ssl=1", "mq.example.org", 5671, "/pulsar/galaxy_eu", "galaxy_eu", "s3cret", True),
    ("pyamqp://u:p@mq:5671//pulsar/site?ssl=true", "mq", 5671, "/pulsar/site", "u", "p", True),
    ("pyamqp://u:p@mq//pulsar/site?ssl=1", "mq", 5671, "/pulsar/site", "u", "p", True),
    ("pyamqp://u:p@mq:5672//pulsar/site", "mq", 5672, "/pulsar/site", "u", "p", False),
    ("pyamqp://u:p@mq:5671//pulsar/site?ssl=0", "mq", 5671, "/pulsar/site", "u", "p", False),
    ("amqp://u:p@mq:5671//pulsar/site?ssl=1&heartbeat=30", "mq", 5671, "/pulsar/site", "u", "p", True),
    ("amqps://u:p@mq//pulsar/site", "mq", 5671, "/pulsar/site", "u", "p", True),
    ("pyamqps://u:p@mq//pulsar/site", "mq", 5671, "/pulsar/site", "u", "p", True),
    # pika's form: the vhost percent-encoded
    ("amqps://u:p@mq.example.org:5671/%2Fpulsar%2Fgalaxy_x", "mq.example.org", 5671, "/pulsar/galaxy_x", "u", "p", True),
    ("amqp://u:p@mq:5672/%2F", "mq", 5672, "/", "u", "p", False),
    ("amqp://u:p@mq/plainvhost", "mq", 5672, "plainvhost", "u", "p", False),
    # default vhost and credentials
    ("amqp://u:p@mq/", "mq", 5672, "/", "u", "p", False),
    ("amqp://u:p@mq", "mq", 5672, "/", "u", "p", False),
    ("amqp://u:p@mq//", "mq", 5672, "/", "u", "p", False),
    ("amqps://mq", "mq", 5671, "/", "guest", "guest", True),
    # percent-encoded credentials, IPv6, upper-case scheme
    ("pyamqp://site%2Ba:p%40ss%3Aw0rd%2F@mq:5671//pulsar/a?ssl=1", "mq", 5671, "/pulsar/a", "site+a", "p@ss:w0rd/", True),
    ("pyamqp://u:p@[2001:db8::5]:5671//pulsar/a?ssl=1", "2001:db8::5", 5671, "/pulsar/a", "u", "p", True),
    ("AMQPS://u:p@MQ.example.org/%2Fpulsar%2Fa", "mq.example.org", 5671, "/pulsar/a", "u", "p", True),
    ("librabbitmq://u:p@mq//pulsar/a", "mq", 5672, "/pulsar/a", "u", "p", False),
])
def test_urls_are_converted(url, host, port, vhost, user, password, tls):
    settings = pq.parse_amqp_url(url)
    assert (settings["host"], settings["port"], settings["vhost"]) == (host, port, vhost)
    assert (settings["username"], settings["password"], settings["tls"]) == (user, password, tls)


def test_heartbeat_is_read():
    assert pq.parse_amqp_url("amqp://u:p@mq//x?heartbeat=30")["heartbeat"] == 30
    assert pq.parse_amqp_url("amqp://u:p@mq//x")["heartbeat"] is None


@pytest.mark.parametrize("url, message", [
    ("redis://u:topsecret@mq:6379/0", "scheme 'redis' is not one of"),
    ("mq.example.org:5671", "must look like amqps://"),
    ("amqps://u:topsecret@:5671//x", "names no host"),
    ("amqps://u:topsecret@mq:port//x", "has an invalid port"),
    ("amqps://u:topsecret@mq:99999//x", "has an invalid port"),
    ("amqps://u:topsecret@mq//x?heartbeat=soon", "heartbeat 'soon' is not a number"),
])
def test_bad_urls_are_refused_without_showing_the_password(url, message):
    with pytest.raises(pq.UrlError) as err:
        pq.parse_amqp_url(url)
    assert message in str(err.value)
    assert "topsecret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_redact():
    assert pq.redact("pyamqp://u:p@ss@mq//x") == "pyamqp://u:********@mq//x"


@pytest.mark.parametrize("manager, setup, status_update", [
    ("production", "pulsar_production__setup", "pulsar_production__status_update"),
    ("_default_", "pulsar__setup", "pulsar__status_update"),
    ("galaxy.eu-1", "pulsar_galaxy.eu-1__setup", "pulsar_galaxy.eu-1__status_update"),
])
def test_pulsar_queue_names(manager, setup, status_update):
    names = pq.pulsar_queue_names(manager)
    assert names["setup"] == setup and names["status_update"] == status_update
    assert set(names) == {"setup", "kill", "status", "status_update"}
    assert pq.manager_from_setup_queue(setup) == manager


@pytest.mark.parametrize("manager", ["", "a b", "x/y", None])
def test_bad_manager_names(manager):
    with pytest.raises(ValueError, match="may hold only"):
        pq.pulsar_queue_names(manager)


def test_queues_that_are_not_setup_queues_name_no_manager():
    assert pq.manager_from_setup_queue("pulsar_production__status") is None
    assert pq.manager_from_setup_queue("celery") is None


ROLES = pq.pulsar_queue_names("production")


def figures(ready=0, consumers=1, **override):
    queues = {name: {"exists": True, "messages_ready": ready, "consumers": consumers} for name in ROLES.values()}
    queues[ROLES["status_update"]]["consumers"] = 0  # Galaxy's queue: Pulsar never consumes it
    for role, value in override.items():
        queues[ROLES[role]] = value
    return queues


def test_healthy_endpoint():
    assert pq.endpoint_verdict(figures(ready=2), ROLES, max_ready=10) == ("healthy", [])


def test_stalled_endpoint_has_ready_messages_and_no_consumer():
    verdict, reasons = pq.endpoint_verdict(figures(setup={"exists": True, "messages_ready": 3, "consumers": 0}), ROLES, 10)
    assert verdict == "stalled"
    assert reasons == ["nobody consumes pulsar_production__setup (3 ready)"]


def test_endpoint_without_consumers_is_stalled_even_when_empty():
    verdict, reasons = pq.endpoint_verdict(figures(consumers=0), ROLES, 10)
    assert verdict == "stalled" and len(reasons) == 3


def test_absent_endpoint():
    verdict, reasons = pq.endpoint_verdict(figures(setup={"exists": False, "messages_ready": 0, "consumers": 0}), ROLES, 10)
    assert verdict == "absent"
    assert "never connected" in reasons[0]


def test_missing_kill_queue_is_stalled():
    verdict, reasons = pq.endpoint_verdict(figures(kill={"exists": False}), ROLES, 10)
    assert (verdict, reasons) == ("stalled", ["queue pulsar_production__kill does not exist"])


def test_backlog_over_the_limit():
    verdict, reasons = pq.endpoint_verdict(figures(ready=11), ROLES, 10)
    assert verdict == "backlogged"
    assert "pulsar_production__setup holds 11 ready messages (limit 10)" in reasons
