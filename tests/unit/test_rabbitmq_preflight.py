"""Bad broker settings stop the rabbitmq role in preflight with how to fix them, and passwords stay out of -vvv."""
import pytest

PEM = {"rabbitmq_tls_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
       "rabbitmq_tls_private_key": "-----BEGIN PRIVATE KEY-----\nKEYTEXT\n-----END PRIVATE KEY-----\n",
       "rabbitmq_tls_ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
       "rabbitmq_monitoring_password": "monitoring-pw-long-enough"}
GOOD_SITE = {"name": "site_a", "password": "site-a-VERYSECRET-pw"}

CASES = {
    "no TLS material": ({"rabbitmq_tls_certificate": ""}, "must hold PEM text"),
    "placeholder endpoint password": ({"rabbitmq_pulsar_endpoints": [GOOD_SITE, {"name": "site_b", "password": "changeme"}]},
                                      "Offending item: site_b"),
    "bad endpoint name": ({"rabbitmq_pulsar_endpoints": [{"name": "site b", "password": "long-enough-password"}]},
                          "Offending item: site b"),
    "duplicate endpoints": ({"rabbitmq_pulsar_endpoints": [GOOD_SITE, GOOD_SITE]}, "share a name"),
    "two endpoints on one vhost": (
        {"rabbitmq_pulsar_endpoints": [GOOD_SITE, {"name": "site_b", "password": "site-b-password-ok", "vhost": "/pulsar/site_a"}]},
        "share a name or a vhost (/pulsar/site_a)"),
    "weak monitoring password": ({"rabbitmq_monitoring_password": "short"}, "rabbitmq_monitoring_password is shorter than 12"),
    "example vault's endpoint password": (
        {"rabbitmq_pulsar_endpoints": [{"name": "site_b", "password": "CHANGE-ME: the endpoint's AMQP password on the broker"}]},
        "the password of site_b is a placeholder"),
    "placeholder monitoring password": ({"rabbitmq_monitoring_password": "a-Placeholder-for-the-monitoring-pw"},
                                        "rabbitmq_monitoring_password is a placeholder"),
    # Configuration injection: rabbitmq.conf is one 'key = value' per line.
    "extra value with a new setting": ({"rabbitmq_config_extra": {"channel_max": "128\nloopback_users = none"}},
                                       "rabbitmq_config_extra must be one word"),
    "disk limit with a new setting": ({"rabbitmq_disk_free_limit": "2GB\nlisteners.tcp.default = 5672"},
                                      "rabbitmq_disk_free_limit must be one word"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, case):
    override, message = CASES[case]
    _task, messages = preflight_failure(run_role("rabbitmq", {**PEM, **override}))
    assert any(message in m for m in messages), messages


def test_endpoint_passwords_stay_out_of_vvv_output(run_role):
    result = run_role("rabbitmq", {**PEM, "rabbitmq_pulsar_endpoints": [GOOD_SITE, {"name": "site_b", "password": "changeme"}]},
                      "-vvv")
    assert result.returncode != 0
    assert "Offending item: site_b" in result.stdout
    assert "VERYSECRET" not in result.stdout + result.stderr
    assert "KEYTEXT" not in result.stdout + result.stderr


def test_private_key_stays_out_of_vvv_output_when_tls_is_refused(run_role):
    result = run_role("rabbitmq", {**PEM, "rabbitmq_tls_certificate": "not a certificate"}, "-vvv")
    assert result.returncode != 0
    assert "must hold PEM text" in result.stdout
    assert "KEYTEXT" not in result.stdout + result.stderr
