"""Secrets that a refused setting carries stay out of the output, even at -vvv."""
from preflight_table import (HTCONDOR_GOOD, PULSAR_GOOD, PULSAR_URL, RABBITMQ_GOOD, RABBITMQ_GOOD_SITE, TES_GOOD,
                             USEGALAXY_REPLICA_GOOD, USEGALAXY_REPLICA_URL)


def test_refused_key_is_not_echoed_even_at_vvv(run_role):
    result = run_role("htcondor", {**HTCONDOR_GOOD, "htcondor_pool_signing_key": "changeme-changeme-changeme-changeme"}, "-vvv")
    assert result.returncode != 0
    assert "changeme-changeme" not in result.stdout + result.stderr


def test_amqp_password_stays_out_of_vvv_output(run_role):
    servers = [{"name": "eu", "message_queue_url": PULSAR_URL}, {"name": "bad name", "message_queue_url": PULSAR_URL}]
    result = run_role("pulsar", {**PULSAR_GOOD, "pulsar_galaxy_servers": servers}, "-vvv")
    assert result.returncode != 0
    assert "Galaxy server bad name" in result.stdout
    assert "VERYSECRET" not in result.stdout + result.stderr


def test_endpoint_passwords_stay_out_of_vvv_output(run_role):
    result = run_role("rabbitmq", {**RABBITMQ_GOOD, "rabbitmq_pulsar_endpoints": [RABBITMQ_GOOD_SITE, {"name": "site_b", "password": "changeme"}]},
                      "-vvv")
    assert result.returncode != 0
    assert "Offending item: site_b" in result.stdout
    assert "VERYSECRET" not in result.stdout + result.stderr
    assert "KEYTEXT" not in result.stdout + result.stderr
    result = run_role("tes", {**TES_GOOD, "tes_store_url": "postgresql://tes:STORESECRET-pw@db.example.org"}, "-vvv")
    assert result.returncode != 0
    assert "tes_store_url: expected postgresql://" in result.stdout
    assert "STORESECRET" not in result.stdout + result.stderr


def test_private_key_stays_out_of_vvv_output_when_tls_is_refused(run_role):
    result = run_role("rabbitmq", {**RABBITMQ_GOOD, "rabbitmq_tls_certificate": "not a certificate"}, "-vvv")
    assert result.returncode != 0
    assert "must hold PEM text" in result.stdout
    assert "KEYTEXT" not in result.stdout + result.stderr


def test_secrets_stay_out_of_vvv_output(run_role):
    bad = {"usegalaxy_replica_pulsar_endpoints": [{"name": "bad name", "amqp_url": USEGALAXY_REPLICA_URL, "jobs_directory": "/x"}],
           "usegalaxy_replica_admin_password": "changeme",
           "usegalaxy_replica_celery_broker_url": "pyamqp://galaxy:CELERYSECRET@mq.example.org//galaxy"}
    result = run_role("usegalaxy_replica", {**USEGALAXY_REPLICA_GOOD, **bad}, "-vvv")
    assert result.returncode != 0
    for secret in ("VERYSECRET", "CELERYSECRET", "KEYTEXT", "db-password-long-enough", "bootstrap-key-long-enough-32-characters"):
        assert secret not in result.stdout + result.stderr, secret


def test_tes_users_and_endpoint_secrets_stay_out_of_vvv_output(run_role):
    """A weak password among good ones, and an endpoint URL without TLS beside one with a password: refused by name."""
    users = [{"name": "alice", "token": "ALICE-TOKEN-long-enough"}, {"name": "bob", "password": "changeme-BOBSECRET"}]
    result = run_role("tes", {**TES_GOOD, "tes_users": users}, "-vvv")
    assert result.returncode != 0
    assert "tes_users[bob].password is a placeholder" in result.stdout
    assert "BOBSECRET" not in result.stdout + result.stderr and "ALICE-TOKEN" not in result.stdout + result.stderr
    endpoints = [TES_GOOD["tes_endpoints"][0],
                 {"name": "site_b", "jobs_directory": "/x", "amqp_url": "pyamqp://u:PLAINSECRET-pw@mq.example.org:5672//v"}]
    result = run_role("tes", {**TES_GOOD, "tes_endpoints": endpoints}, "-vvv")
    assert result.returncode != 0
    assert "tes endpoint site_b" in result.stdout
    assert "VERYSECRET" not in result.stdout + result.stderr and "PLAINSECRET" not in result.stdout + result.stderr
    assert "KEYTEXT" not in result.stdout + result.stderr
