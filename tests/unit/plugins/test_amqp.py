"""The collection's one AMQP layer: URLs in the shapes Galaxy, Pulsar and pika users write, the TLS rule, and the
TLS settings every client (kombu, Pulsar's client) gets, which always check the broker's name."""
import ssl

import pytest

from ansible_collections.esg.pulsar_network.plugins.filter.amqp import FilterModule
from ansible_collections.esg.pulsar_network.plugins.module_utils import amqp

FILTERS = FilterModule().filters()


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
    settings = amqp.parse_url(url)
    assert (settings["host"], settings["port"], settings["vhost"]) == (host, port, vhost)
    assert (settings["username"], settings["password"], settings["tls"]) == (user, password, tls)


def test_heartbeat_is_read():
    assert amqp.parse_url("amqp://u:p@mq//x?heartbeat=30")["heartbeat"] == 30
    assert amqp.parse_url("amqp://u:p@mq//x")["heartbeat"] is None


@pytest.mark.parametrize("url, message", [
    ("redis://u:topsecret-amqp-pw@mq:6379/0", "scheme 'redis' is not one of"),
    ("mq.example.org:5671", "must look like amqps://"),
    ("amqps://u:topsecret-amqp-pw@:5671//x", "names no host"),
    ("amqps://u:topsecret-amqp-pw@mq:port//x", "has an invalid port"),
    ("amqps://u:topsecret-amqp-pw@mq:99999//x", "has an invalid port"),
    ("amqps://u:topsecret-amqp-pw@mq//x?heartbeat=soon", "heartbeat 'soon' is not a number"),
])
def test_bad_urls_are_refused_without_showing_the_password(url, message):
    with pytest.raises(amqp.UrlError) as err:
        amqp.parse_url(url)
    assert message in str(err.value)
    assert "topsecret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_redact():
    assert amqp.redact("pyamqp://u:p@ss@mq//x") == "pyamqp://u:********@mq//x"


@pytest.mark.parametrize("flag", ["1", "true", "TRUE", "yes", "on", "required"])
def test_every_tls_word_means_tls_and_is_dropped_beside_explicit_options(flag):
    url = f"pyamqp://u:p@mq.example.org:5671//pulsar/a?ssl={flag}&heartbeat=30"
    assert amqp.parse_url(url)["tls"] is True
    kombu_url, options = amqp.kombu_connection(url)
    assert kombu_url == "pyamqp://u:p@mq.example.org:5671//pulsar/a?heartbeat=30"
    assert options["server_hostname"] == "mq.example.org"


@pytest.mark.parametrize("url, host", [
    ("pyamqp://u:p@mq.example.org:5671//pulsar/a?ssl=1", "mq.example.org"),
    ("amqps://u:p@MQ.Example.org/%2Fpulsar%2Fa", "mq.example.org"),
    ("pyamqp://u:p@[2001:db8::5]:5671//pulsar/a?ssl=1", "2001:db8::5"),
])
def test_tls_always_checks_the_brokers_name_with_or_without_a_ca(url, host):
    for ca_file in (None, "/etc/pulsar/amqp-ca.crt"):
        _url, options = amqp.kombu_connection(url, ca_file)
        assert options["cert_reqs"] == ssl.CERT_REQUIRED
        assert options["server_hostname"] == host
        assert options.get("ca_certs") == ca_file


def test_plain_urls_get_no_tls_options_and_stay_as_they_are():
    url = "pyamqp://u:p@mq:5672//pulsar/a?ssl=0"
    assert amqp.kombu_connection(url) == (url, None)
    assert amqp.pulsar_client_params(url) == {"amqp_url": url}


def test_validate_certs_off_checks_nothing():
    _url, options = amqp.kombu_connection("amqps://u:p@mq//a", validate_certs=False)
    assert options == {"cert_reqs": ssl.CERT_NONE}


def test_pulsar_params_for_app_yml_and_galaxy():
    params = FILTERS["pulsar_amqp_params"]("pyamqp://u:p@mq.example.org:5671//pulsar/a?ssl=1", "/etc/pulsar/ca.crt",
                                           "message_queue_url")
    assert params == {"message_queue_url": "pyamqp://u:p@mq.example.org:5671//pulsar/a",
                      "amqp_connect_ssl_cert_reqs": "cert_required",
                      "amqp_connect_ssl_server_hostname": "mq.example.org",
                      "amqp_connect_ssl_ca_certs": "/etc/pulsar/ca.crt"}
    # Pulsar's own parser turns these back into kombu's ssl dict: cert_reqs by name, the rest as they are.
    assert getattr(ssl, params["amqp_connect_ssl_cert_reqs"].upper()) == ssl.CERT_REQUIRED
    # A public CA (no CA file) still checks the name.
    public = FILTERS["pulsar_amqp_params"]("amqps://u:p@mq.example.org//pulsar/a")
    assert public["amqp_connect_ssl_server_hostname"] == "mq.example.org" and "amqp_connect_ssl_ca_certs" not in public


@pytest.mark.parametrize("url, kwargs, reason", [
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/a?ssl=1", {}, ""),
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/a?ssl=yes", {}, ""),
    ("amqps://u:topsecret-amqp-pw@mq/%2Fpulsar%2Fa", {"vhost": "/pulsar/a"}, ""),
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/a", {}, "is not TLS"),
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/a?ssl=0", {}, "is not TLS"),
    ("pyamqp://u:topsecret-amqp-pw@mq:5672//pulsar/a", {"require_tls": False}, ""),
    ("pyamqps://mq//pulsar/a", {}, "names no user and password"),
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/b?ssl=1", {"vhost": "/pulsar/a"}, "names vhost /pulsar/b, not /pulsar/a"),
    ("pyamqp://u:topsecret-amqp-pw@mq:5671//pulsar/a?ssl=1\nx", {}, "white space or a line break"),
    ("redis://u:topsecret-amqp-pw@mq/0", {}, "scheme 'redis'"),
    ("", {}, "must look like"),
    (None, {}, "must look like"),
])
def test_url_problem_says_what_is_wrong_in_one_line_without_the_password(url, kwargs, reason):
    problem = FILTERS["amqp_url_problem"](url, **kwargs)
    assert (problem == "") if not reason else (reason in problem)
    assert "topsecret-amqp-pw" not in problem and "\n" not in problem
