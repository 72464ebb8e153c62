"""The module's edges with the broker mocked: arguments, verdicts, management API failures, no password in output."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.esg.pulsar_network.plugins.module_utils import broker, rabbitmq_api
from ansible_collections.esg.pulsar_network.plugins.modules import rabbitmq_queue_info

URL = "pyamqp://site_a:very-secret-pw@mq:5671//pulsar/site_a?ssl=1"
SEEN = {}


def fake_figures(url, queues, ca_file=None, validate_certs=True, timeout=10.0):
    SEEN.update(url=url, queues=list(queues), ca_file=ca_file)
    if SEEN.get("error"):
        raise SEEN["error"]
    return {name: {"exists": True, "messages_ready": 0, "consumers": 0 if name.endswith("status_update") else 1}
            for name in queues}


class FakeApi:
    def __init__(self, url, user, password, ca_file=None, validate_certs=True, timeout=10):
        if "down" in url:
            raise broker.BrokerError("unreachable", f"management API {url} is unreachable: refused")

    def queues(self, vhost):
        return {"pulsar_production__setup": {"exists": True, "messages_ready": 0, "consumers": 1,
                                             "messages_unacknowledged": 2, "idle_since": None,
                                             "publish_rate": 0.5, "deliver_rate": 0.5, "consumer_peers": []}}

    def consumer_peers(self, vhost):
        return {"pulsar_production__setup": ["10.89.0.9"]}


@pytest.fixture(autouse=True)
def fake_broker(monkeypatch):
    SEEN.clear()
    monkeypatch.setattr(broker, "queue_figures", fake_figures)
    monkeypatch.setattr(rabbitmq_api, "ManagementApi", FakeApi)
    monkeypatch.setattr(broker, "KOMBU_IMPORT_ERROR", None)


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        rabbitmq_queue_info.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result["rc"], result["raw"] = exit_info.value.code, out
    return result


def test_manager_is_expanded_and_judged(capsys):
    result = run(capsys, url=URL, manager="production", queues=["extra"])
    assert SEEN["queues"] == ["pulsar_production__setup", "pulsar_production__kill", "pulsar_production__status",
                              "pulsar_production__status_update", "extra"]
    assert SEEN["url"] == URL
    assert (result["verdict"], result["reasons"], result["changed"], result["management"]) == ("healthy", [], False, False)
    assert result["endpoint"] == {"host": "mq", "port": 5671, "vhost": "/pulsar/site_a", "user": "site_a", "tls": True}
    assert "very-secret-pw" not in result["raw"]


def test_queues_without_manager_have_no_verdict(capsys):
    result = run(capsys, url=URL, queues=["a"])
    assert result["verdict"] is None and list(result["queues"]) == ["a"]


@pytest.mark.parametrize("kind", ["unreachable", "auth_failed"])
def test_broker_errors_are_verdicts(capsys, kind):
    SEEN["error"] = broker.BrokerError(kind, f"broker mq:5671 said {kind}")
    result = run(capsys, url=URL, manager="production")
    assert result["rc"] == 0
    assert (result["verdict"], result["reasons"]) == (kind, [f"broker mq:5671 said {kind}"])
    assert "queues" not in result


def test_management_figures_are_merged(capsys):
    result = run(capsys, url=URL, manager="production", management_url="https://mq:15671",
                 management_user="monitoring", management_password="monitor-pw-123")
    setup = result["queues"]["pulsar_production__setup"]
    assert result["management"] is True
    assert setup["messages_unacknowledged"] == 2 and setup["consumer_peers"] == ["10.89.0.9"]
    assert setup["consumers"] == 1  # the AMQP figure stays


def test_management_failure_keeps_the_amqp_verdict(capsys):
    result = run(capsys, url=URL, manager="production", management_url="https://down:15671",
                 management_user="monitoring", management_password="monitor-pw-123")
    assert result["verdict"] == "healthy" and result["management"] is False
    assert result["management_error"] == "management API https://down:15671 is unreachable: refused"


@pytest.mark.parametrize("args, message", [
    ({"url": "redis://u:very-secret-pw@mq/0"}, "scheme 'redis' is not one of"),
    ({"url": URL, "manager": "bad manager"}, "may hold only letters"),
    ({"url": URL, "timeout": 0}, "timeout must be positive"),
    ({"url": URL, "management_url": "https://mq:15671"}, "missing parameter(s) required by 'management_url'"),
])
def test_bad_arguments_fail_with_one_line(capsys, args, message):
    result = run(capsys, **args)
    assert result["rc"] == 1 and message in result["msg"]
    assert "\n" not in result["msg"] and "very-secret-pw" not in result["raw"]


def test_missing_kombu(capsys, monkeypatch):
    monkeypatch.setattr(broker, "KOMBU_IMPORT_ERROR", "Traceback ... ImportError: kombu")
    assert "kombu" in run(capsys, url=URL)["msg"]
