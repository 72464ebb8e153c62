"""The Pulsar watchdog's decisions, with the broker check and systemctl mocked: it restarts only a Pulsar that is
active past its grace and whose setup queue still has no consumer when looked at again; never while the broker is
away; it counts what it did in its state and metrics files; and it names a staging file system under its floor."""
import importlib.util
import json
import pathlib
import types

import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "roles/pulsar/files/pulsar_watchdog.py"
APP = {"message_queue_url": "pyamqp://u:p@broker:5671//pulsar/x", "amqp_connect_ssl_ca_certs": "/etc/pulsar/ca.crt",
       "amqp_connect_ssl_cert_reqs": "cert_required", "managers": {"production": {}, "endpoint_check": {}},
       "staging_directory": "/srv/pulsar/staging/lab"}


def load_watchdog():
    spec = importlib.util.spec_from_file_location("pulsar_watchdog", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def watchdog(tmp_path, monkeypatch):
    module = load_watchdog()
    (tmp_path / "etc/lab").mkdir(parents=True)
    (tmp_path / "etc/lab/app.yml").write_text(json.dumps(APP))
    calls = types.SimpleNamespace(restarts=[], checks=[], uptime=600.0, consumers=[{}], error=None, free=8 * 2**30,
                                  reports=[], publish_error=None, pool={"state": "up", "free": {"cpus": 2}, "total": {"cpus": 2}})

    def figures(url, queues, ca_file=None):
        calls.checks.append((url, tuple(queues), ca_file))
        if calls.error:
            raise calls.error
        answer = calls.consumers.pop(0) if len(calls.consumers) > 1 else calls.consumers[0]
        return {q: {"exists": True, "messages_ready": 0, "consumers": answer.get(q, 1)} for q in queues}

    def publish(url, report, ca_file=None):
        if calls.publish_error:
            raise calls.publish_error
        calls.reports.append((url, report, ca_file))

    monkeypatch.setattr(module, "queue_figures", figures)
    monkeypatch.setattr(module, "publish_report", publish)
    monkeypatch.setattr(module, "pool_report", lambda: calls.pool)
    monkeypatch.setattr(module, "last_completion", lambda: 1_800_000_000.0)
    monkeypatch.setattr(module, "unit_uptime", lambda unit: calls.uptime)
    monkeypatch.setattr(module.os, "statvfs", lambda path: types.SimpleNamespace(f_bavail=calls.free // 4096, f_frsize=4096))
    monkeypatch.setattr(module.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(module.subprocess, "run", lambda argv, **kw: calls.restarts.append(argv))

    def run():
        module.main(["lab", "--config-dir", str(tmp_path / "etc"), "--state-dir", str(tmp_path / "state"),
                     "--metrics-dir", str(tmp_path / "metrics")])
        return (tmp_path / "metrics/pulsar_watchdog_lab.prom").read_text()

    calls.run = run
    return calls


def test_consumed_queues_leave_pulsar_alone(watchdog):
    metrics = watchdog.run()
    assert watchdog.restarts == []
    assert watchdog.checks == [("pyamqp://u:p@broker:5671//pulsar/x?ssl=1",
                                ("pulsar_endpoint_check__setup", "pulsar_production__setup"), "/etc/pulsar/ca.crt")]
    assert 'pulsar_watchdog_restarts_total{server="lab"} 0' in metrics
    assert 'pulsar_watchdog_consumers_ok{server="lab"} 1' in metrics


def test_a_lost_consumer_restarts_that_server_only_and_is_counted(watchdog):
    watchdog.consumers = [{"pulsar_production__setup": 0}]
    watchdog.run()
    metrics = watchdog.run()
    assert watchdog.restarts == [["systemctl", "restart", "pulsar@lab.service"]] * 2
    assert watchdog.checks[1][1] == ("pulsar_production__setup",)  # the second look asks only about the missing one
    assert 'pulsar_watchdog_restarts_total{server="lab"} 2' in metrics


def test_a_consumer_back_on_the_second_look_is_no_restart(watchdog):
    watchdog.consumers = [{"pulsar_production__setup": 0}, {}]
    metrics = watchdog.run()
    assert watchdog.restarts == []
    assert 'pulsar_watchdog_consumers_ok{server="lab"} 1' in metrics


@pytest.mark.parametrize("uptime", [None, 5.0])
def test_a_stopped_or_starting_pulsar_is_not_judged(watchdog, uptime):
    watchdog.uptime, watchdog.consumers = uptime, [{"pulsar_production__setup": 0}]
    watchdog.run()
    assert watchdog.restarts == [] and watchdog.checks == []


def test_an_unreachable_broker_is_no_reason_to_restart(watchdog, capsys):
    watchdog.error = BrokerError("unreachable", "broker unreachable: [Errno 111] Connection refused")
    metrics = watchdog.run()
    assert watchdog.restarts == []
    assert json.loads(capsys.readouterr().out)["reason"].startswith("broker unreachable")
    assert 'pulsar_watchdog_consumers_ok{server="lab"} 0' in metrics


def test_pulsar_default_manager_has_the_queue_pulsar_names():
    """A server with no managers of its own runs Pulsar's _default_ manager, whose setup queue is pulsar__setup."""
    module = load_watchdog()
    assert module.setup_queues({"message_queue_url": APP["message_queue_url"]}) == ["pulsar__setup"]
    assert module.setup_queues(APP) == ["pulsar_endpoint_check__setup", "pulsar_production__setup"]


def test_staging_under_its_floor_is_named_and_exported_but_restarts_nothing(watchdog, capsys):
    watchdog.free = 3 * 2**20
    metrics = watchdog.run()
    low = json.loads(capsys.readouterr().out.splitlines()[0])
    assert low["event"] == "staging_low" and low["staging_directory"] == "/srv/pulsar/staging/lab"
    assert low["reason"].startswith("/srv/pulsar/staging/lab has 3 MiB free, under the 1024 MiB floor")
    assert f'pulsar_staging_free_bytes{{server="lab"}} {3 * 2**20}' in metrics
    assert watchdog.restarts == []


def test_staging_above_its_floor_is_not_reported(watchdog, capsys):
    metrics = watchdog.run()
    assert "staging_low" not in capsys.readouterr().out
    assert f'pulsar_staging_free_bytes{{server="lab"}} {8 * 2**30}' in metrics


def test_unreadable_staging_is_logged_not_fatal(watchdog, monkeypatch, capsys):
    def refuse(path):
        raise PermissionError(13, "Permission denied", path)
    monkeypatch.setattr("os.statvfs", refuse)
    metrics = watchdog.run()
    assert json.loads(capsys.readouterr().out.splitlines()[0])["event"] == "staging_unknown"
    assert "pulsar_staging_free_bytes" not in metrics and "pulsar_watchdog_consumers_ok" in metrics


def test_each_check_publishes_the_health_report_on_the_servers_vhost(watchdog):
    watchdog.run()
    [(url, report, ca_file)] = watchdog.reports
    assert (url, ca_file) == ("pyamqp://u:p@broker:5671//pulsar/x?ssl=1", "/etc/pulsar/ca.crt")
    assert (report["server"], report["pool"], report["consumers_ok"], report["staging_free_bytes"],
            report["last_job_completed"]) == ("lab", watchdog.pool, True, 8 * 2**30, 1_800_000_000.0)


def test_a_pulsar_that_is_down_still_reports_its_pool_and_no_consumer(watchdog):
    watchdog.uptime = None
    watchdog.run()
    assert watchdog.reports[0][1]["consumers_ok"] is False


def test_a_report_the_broker_refuses_is_logged_and_the_check_goes_on(watchdog, capsys):
    watchdog.publish_error = BrokerError("auth_failed", "broker mq:5671 refused user pulsar: wrong password?")
    metrics = watchdog.run()
    assert 'pulsar_watchdog_consumers_ok{server="lab"} 1' in metrics
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1] == {"event": "report_failed", "server": "lab", "reason": "broker mq:5671 refused user pulsar: wrong password?"}


def test_a_pool_that_cannot_be_read_is_reported_down_with_the_reason(monkeypatch):
    module = load_watchdog()

    def fail():
        raise module.PoolQueryError("condor_status -slots failed: CEDAR:6001:Failed to connect")

    monkeypatch.setattr(module, "read_local_pool", fail)
    assert module.pool_report() == {"state": "down", "reasons": ["condor_status -slots failed: CEDAR:6001:Failed to connect"],
                                    "free": {}, "total": {}}
