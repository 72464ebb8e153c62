"""Bad replica settings stop the usegalaxy_replica role in preflight with how to fix them; secrets stay out of -vvv."""
import pytest

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
URL = "pyamqp://site_a:VERYSECRET-amqp-pw@mq.example.org:5671//pulsar/site_a?ssl=1"
GOOD = {
    "usegalaxy_replica_tls_certificate": CERT,
    "usegalaxy_replica_tls_private_key": "-----BEGIN PRIVATE KEY-----\nKEYTEXT\n-----END PRIVATE KEY-----\n",
    "usegalaxy_replica_db_password": "db-password-long-enough",
    "usegalaxy_replica_id_secret": "id-secret-long-enough-32-characters",
    "usegalaxy_replica_bootstrap_api_key": "bootstrap-key-long-enough-32-characters",
    "usegalaxy_replica_admin_password": "admin-password-long-enough",
    "usegalaxy_replica_pulsar_endpoints": [{"name": "site_a", "amqp_url": URL, "jobs_directory": "/srv/pulsar/staging/eu"}],
}

CASES = {
    "placeholder database password": ({"usegalaxy_replica_db_password": "changeme"}, "usegalaxy_replica_db_password is a placeholder"),
    "short id_secret": ({"usegalaxy_replica_id_secret": "short"}, "usegalaxy_replica_id_secret is shorter than 32"),
    "id_secret of 31 characters": ({"usegalaxy_replica_id_secret": "x" * 31}, "usegalaxy_replica_id_secret is shorter than 32"),
    "example vault's API key": ({"usegalaxy_replica_bootstrap_api_key": "CHANGE-ME: 32 random characters"},
                                "usegalaxy_replica_bootstrap_api_key is a placeholder"),
    "example vault's admin password": ({"usegalaxy_replica_admin_password": "CHANGE-ME"},
                                       "usegalaxy_replica_admin_password is a placeholder"),
    "endpoint URL with a placeholder password": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": URL.replace("VERYSECRET-amqp-pw", "changeme-later-please"),
                                                 "jobs_directory": "/x"}]},
        "the password is a placeholder"),
    "no TLS certificate": ({"usegalaxy_replica_tls_certificate": ""}, "must hold PEM text"),
    "bad admin e-mail": ({"usegalaxy_replica_admin_email": "admin"}, "e-mail address"),
    "endpoint over plain AMQP": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": URL.replace("?ssl=1", ""), "jobs_directory": "/x"}]},
        "Pulsar endpoint eu"),
    "endpoint without jobs_directory": (
        {"usegalaxy_replica_pulsar_endpoints": [{"name": "eu", "amqp_url": URL, "jobs_directory": "relative"}]},
        "Pulsar endpoint eu"),
    "tool outside the bundled tools": ({"usegalaxy_replica_bundled_tools": ["../../../etc/evil.xml"]}, "paths below"),
    "repository without an owner": ({"usegalaxy_replica_tool_shed_repositories": [{"name": "pn_tac"}]}, "need a name and an owner"),
    "Tool Shed without a URL scheme": ({"usegalaxy_replica_tool_sheds": [{"name": "lab", "url": "toolshed.lab"}]}, "http(s) url"),
    "no job handler": ({"usegalaxy_replica_job_handlers": 0}, "without a job handler no job runs"),
    "Celery broker not a URL": ({"usegalaxy_replica_celery_broker_url": "mq.example.org"}, "or a kombu URL"),
    # Configuration injection: these go into systemd units and nginx's site.
    "server name with a trailing newline": ({"usegalaxy_replica_server_name": "galaxy.example.org\n"},
                                            "usegalaxy_replica_server_name must be a host or domain name"),
    "server name with a new directive": ({"usegalaxy_replica_server_name": "galaxy.example.org; return 200"},
                                         "usegalaxy_replica_server_name must be"),
    "data dir with a new unit setting": ({"usegalaxy_replica_data_dir": "/srv/galaxy\nUser=root"},
                                         "usegalaxy_replica_data_dir must be an absolute path"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, case):
    override, message = CASES[case]
    _task, messages = preflight_failure(run_role("usegalaxy_replica", {**GOOD, **override}))
    assert any(message in m for m in messages), messages


def test_secrets_stay_out_of_vvv_output(run_role):
    bad = {"usegalaxy_replica_pulsar_endpoints": [{"name": "bad name", "amqp_url": URL, "jobs_directory": "/x"}],
           "usegalaxy_replica_admin_password": "changeme",
           "usegalaxy_replica_celery_broker_url": "pyamqp://galaxy:CELERYSECRET@mq.example.org//galaxy"}
    result = run_role("usegalaxy_replica", {**GOOD, **bad}, "-vvv")
    assert result.returncode != 0
    for secret in ("VERYSECRET", "CELERYSECRET", "KEYTEXT", "db-password-long-enough", "bootstrap-key-long-enough-32-characters"):
        assert secret not in result.stdout + result.stderr, secret
