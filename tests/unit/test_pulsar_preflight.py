"""Bad endpoint settings stop the pulsar role in preflight with how to fix them, and AMQP passwords stay out of -vvv."""
import pytest

URL = "pyamqp://site_a:VERYSECRET-amqp-pw@mq.example.org:5671//pulsar/site_a?ssl=1"
BASE = {"pulsar_staging_root": "/tmp", "pulsar_execute_nodes": [],
        "pulsar_galaxy_servers": [{"name": "usegalaxy_eu", "message_queue_url": URL}]}

CASES = {
    "no Galaxy server": ({"pulsar_galaxy_servers": []}, "Set pulsar_galaxy_servers"),
    "plain AMQP": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": URL.replace("?ssl=1", "")}]},
                   "is not TLS"),
    "URL with the example vault's password": (
        {"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": URL.replace("VERYSECRET-amqp-pw", "CHANGE-ME")}]},
        "the password is a placeholder"),
    "URL without credentials": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": "pyamqp://mq:5671//x?ssl=1"}]},
                                "names no user and password"),
    "bad server name": ({"pulsar_galaxy_servers": [{"name": "use galaxy", "message_queue_url": URL}]},
                        "Galaxy server use galaxy"),
    "duplicate servers": ({"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": URL}] * 2}, "unique name"),
    "staging outside the shared root": (
        {"pulsar_galaxy_servers": [{"name": "eu", "message_queue_url": URL, "staging_directory": "/var/tmp/eu"}]},
        "must lie under pulsar_staging_root"),
    "shared storage not mounted": ({"pulsar_staging_root": "/nonexistent/pulsar"},
                                   "/nonexistent/pulsar is missing on target"),
    "bad submit command": ({"pulsar_managers": {"production": {"submit": {"request cpus": 2}}}}, "Manager production"),
    "incomplete retry settings": ({"pulsar_preprocess_retry": {"max_retries": 3}}, "need exactly max_retries"),
    "not a CA certificate": ({"pulsar_amqp_ca_certificate": "ca.crt"}, "must be PEM text"),
    "uid not a number": ({"pulsar_uid": "pulsar"}, "pulsar_uid"),
    # Configuration injection: these go into systemd units and environment files.
    "venv with a new unit setting": ({"pulsar_venv_dir": "/opt/pulsar/venv\nExecStartPre=/bin/touch /pwned"},
                                     "pulsar_venv_dir must be an absolute path"),
    "state dir with a systemd specifier": ({"pulsar_state_dir": "/var/lib/%u"}, "pulsar_state_dir must be an absolute path"),
    "memory limit with a new setting": ({"pulsar_service_memory_max": "4G\nUser=root"}, "pulsar_service_memory_max must be one word"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_setting_fails_in_preflight_with_how_to_fix(run_role, preflight_failure, case):
    override, message = CASES[case]
    _task, messages = preflight_failure(run_role("pulsar", {**BASE, **override}))
    assert any(message in m for m in messages), messages


def test_amqp_password_stays_out_of_vvv_output(run_role):
    servers = [{"name": "eu", "message_queue_url": URL}, {"name": "bad name", "message_queue_url": URL}]
    result = run_role("pulsar", {**BASE, "pulsar_galaxy_servers": servers}, "-vvv")
    assert result.returncode != 0
    assert "Galaxy server bad name" in result.stdout
    assert "VERYSECRET" not in result.stdout + result.stderr
