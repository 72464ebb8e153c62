"""The pulsar_job module's edges with the broker and Pulsar mocked: checks before sending, failures, no password."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.esg.pulsar_network.plugins.module_utils import pulsar_client
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError
from ansible_collections.esg.pulsar_network.plugins.modules import pulsar_job

URL = "pyamqp://galaxy_a:very-secret-pw@mq:5671//pulsar/galaxy_a?ssl=1"
ARGS = {"amqp_url": URL, "jobs_directory": "/srv/pulsar/staging/galaxy_a", "command": "hostname",
        "ca_file": "/etc/pulsar/amqp-ca.crt"}
SEEN = {}


def figures(consumers):
    def fake(url, queues, ca_file=None, validate_certs=True, timeout=10.0):
        SEEN.update(url=url, ca_file=ca_file)
        if isinstance(consumers, Exception):
            raise consumers
        return {q: {"exists": True, "messages_ready": 0, "consumers": consumers} for q in queues}
    return fake


def job(**changes):
    def fake(url, manager, jobs_directory, command, inputs, outputs, timeout, *rest):
        SEEN.update(sent=True, manager=manager, command=command, inputs=inputs)
        if isinstance(changes.get("error"), Exception):
            raise changes["error"]
        result = {"job_id": "endpoint-check-1", "status": "complete", "exit_code": 0, "stdout": "exec-1\n",
                  "stderr": "", "outputs": {}, "missing_outputs": [], "timings": {"total_s": 3.0}, "transfers": [],
                  "pulsar_version": "0.16.0"}
        result.update(changes)
        return result
    return fake


@pytest.fixture(autouse=True)
def fake_pulsar(monkeypatch):
    SEEN.clear()
    monkeypatch.setattr(pulsar_client, "PULSAR_IMPORT_ERROR", None)
    monkeypatch.setattr(pulsar_job, "queue_figures", figures(1))
    monkeypatch.setattr(pulsar_client, "run_one", job())


def run(capsys, **args):
    with patch_module_args({**ARGS, **args}), pytest.raises(SystemExit) as exit_info:
        pulsar_job.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result["rc"], result["raw"] = exit_info.value.code, out
    assert "very-secret-pw" not in out
    return result


def test_a_completed_job_returns_its_output_and_the_verdict(capsys):
    result = run(capsys)
    assert result["rc"] == 0 and result["changed"] is True
    assert result["stdout"] == "exec-1\n" and result["verdict"] == "healthy"
    assert SEEN["manager"] == "endpoint_check"
    assert SEEN["url"] == URL and SEEN["ca_file"] == "/etc/pulsar/amqp-ca.crt"


def test_nothing_consuming_fails_with_the_verdict_without_sending(capsys, monkeypatch):
    monkeypatch.setattr(pulsar_job, "queue_figures", figures(0))
    result = run(capsys)
    assert result["rc"] == 1 and result["verdict"] == "stalled"
    assert result["msg"].startswith("endpoint stalled: nothing consumes pulsar_endpoint_check__setup")
    assert "sent" not in SEEN


def test_a_refused_login_is_auth_failed(capsys, monkeypatch):
    refused = BrokerError("auth_failed", "broker mq:5671 refused user galaxy_a: wrong password?")
    monkeypatch.setattr(pulsar_job, "queue_figures", figures(refused))
    result = run(capsys)
    assert result["rc"] == 1 and result["verdict"] == "auth_failed"
    assert result["msg"] == "broker mq:5671 refused user galaxy_a: wrong password?"


def test_check_mode_reads_the_queues_and_sends_nothing(capsys):
    result = run(capsys, _ansible_check_mode=True)
    assert result["rc"] == 0 and result["changed"] is True and result["verdict"] == "healthy"
    assert "sent" not in SEEN


@pytest.mark.parametrize("changes, message", [
    ({"exit_code": 2, "stderr": "line 1\nno such file\n"}, "exit code 2, expected 0; stderr: no such file"),
    ({"status": "failed", "exit_code": None}, "Pulsar reports the job failed"),
    ({"missing_outputs": ["out.txt"]}, "missing outputs: out.txt"),
    ({"error": pulsar_client.JobError("timeout", "no final status within 5 s (j last running)")}, "job timeout: no final status"),
])
def test_failures_give_one_line_reasons(capsys, monkeypatch, changes, message):
    monkeypatch.setattr(pulsar_client, "run_one", job(**changes))
    result = run(capsys)
    assert result["rc"] == 1
    assert message in result["msg"] and "\n" not in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"input_files": {"../x": "a"}}, "may hold only"),
    ({"command": "cat {input:missing.txt}"}, "no input file is called 'missing.txt'"),
    ({"amqp_url": "http://mq"}, "scheme 'http'"),
    ({"timeout": 0}, "timeout must be a positive"),
])
def test_bad_arguments_fail_before_the_broker_is_asked(capsys, args, message):
    result = run(capsys, **args)
    assert result["rc"] == 1 and message in result["msg"]
    assert "url" not in SEEN


def test_missing_client_library_names_it(capsys, monkeypatch):
    monkeypatch.setattr(pulsar_client, "PULSAR_IMPORT_ERROR", "Traceback: No module named 'pulsar'")
    result = run(capsys)
    assert result["rc"] == 1 and "pulsar-galaxy-lib" in result["msg"]
