"""The module's edges: arguments, failures as one-line reasons, metrics files and check mode (the pool is mocked)."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.esg.pulsar_network.plugins.module_utils import htcondor_pool as hp
from ansible_collections.esg.pulsar_network.plugins.modules import htcondor_pool_info

NOW = 1_800_000_000
POOL = {"slots": [{"Machine": "wn1", "SlotType": "Partitionable", "State": "Unclaimed", "Activity": "Idle",
                   "Cpus": 4, "TotalSlotCpus": 4, "Memory": 4000, "TotalSlotMemory": 4000}],
        "daemons": {"collector": [{"Name": "cm", "CollectorName": "lab pool"}],
                    "negotiator": [{"Name": "cm", "LastHeardFrom": NOW}],
                    "schedd": [{"Name": "head", "Machine": "head", "LastHeardFrom": NOW}],
                    "master": []}}


class FakeClient:
    error = None
    seen = {}

    def __init__(self, collector=None, token=None, timeout=20):
        FakeClient.seen = {"collector": collector, "token": token, "timeout": timeout}
        self.name = collector or "local"

    def read_pool(self, with_daemons=True):
        if FakeClient.error:
            raise hp.PoolQueryError(FakeClient.error)
        return POOL


@pytest.fixture(autouse=True)
def fake_pool(monkeypatch):
    FakeClient.error = None
    monkeypatch.setattr(hp, "CollectorClient", FakeClient)
    monkeypatch.setattr(hp, "HTCONDOR_IMPORT_ERROR", None)
    monkeypatch.setattr(htcondor_pool_info.time, "time", lambda: NOW + 2)


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        htcondor_pool_info.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exit_info.value.code
    return result


def test_healthy_pool_is_reported(capsys):
    result = run(capsys, collector="cm")
    assert result["rc"] == 0
    assert (result["verdict"], result["reasons"], result["changed"]) == ("healthy", [], False)
    assert result["resources"]["cpus"] == {"total": 4, "claimed": 0, "unclaimed": 4}
    assert result["daemons"]["schedd"][0]["age_seconds"] == 2


def test_unreachable_collector_is_down_not_a_failure(capsys):
    FakeClient.error = "collector cm:9618 is unreachable: Connection refused"
    result = run(capsys, collector="cm")
    assert result["rc"] == 0
    assert result["verdict"] == "down"
    assert result["reasons"] == ["collector cm:9618 is unreachable: Connection refused"]
    assert result["collector_reachable"] is False


def test_token_file_is_read_and_token_never_returned(capsys, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJIUzI1NiJ9.secret-part\n")
    result = run(capsys, collector="cm", token_file=str(token))
    assert FakeClient.seen["token"] == "eyJhbGciOiJIUzI1NiJ9.secret-part"
    assert "secret-part" not in json.dumps(result)


@pytest.mark.parametrize("args, message", [
    ({"collector": "cm:notaport"}, "collector 'cm:notaport' is not host or host:port"),
    ({"collector": "cm", "metrics_path": "/tmp/x.prom"}, "metrics_path needs metrics_format"),
    ({"collector": "cm", "timeout": 0}, "must be positive"),
    ({"collector": "cm", "token": "tok-123456", "token_file": "/b"}, "mutually exclusive"),
    ({"collector": "cm", "token_file": "/nonexistent/token"}, "cannot read token_file /nonexistent/token"),
])
def test_bad_arguments_fail_with_one_line(capsys, args, message):
    result = run(capsys, **args)
    assert result["rc"] == 1 and result["failed"]
    assert message in result["msg"]
    assert "\n" not in result["msg"]


def test_missing_bindings(capsys, monkeypatch):
    monkeypatch.setattr(hp, "HTCONDOR_IMPORT_ERROR", "Traceback ... ImportError")
    result = run(capsys, collector="cm")
    assert result["failed"] and "htcondor" in result["msg"]


def test_prometheus_file_is_written_then_unchanged(capsys, tmp_path):
    path = tmp_path / "pool.prom"
    first = run(capsys, collector="cm", metrics_format="prometheus", metrics_path=str(path))
    assert first["changed"] is True
    assert path.read_text() == first["metrics"]
    assert 'htcondor_pool_cpus{pool="lab pool",state="total"} 4' in first["metrics"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    second = run(capsys, collector="cm", metrics_format="prometheus", metrics_path=str(path))
    assert second["changed"] is False


def test_check_mode_leaves_the_metrics_file_alone(capsys, tmp_path):
    path = tmp_path / "pool.prom"
    result = run(capsys, collector="cm", metrics_format="prometheus", metrics_path=str(path), _ansible_check_mode=True)
    assert result["changed"] is True
    assert not path.exists()


def test_influx_line_uses_the_pool_name(capsys):
    result = run(capsys, collector="cm", metrics_format="influx")
    assert result["metrics"].startswith("htcondor_cluster_usage,pool=lab\\ pool cpus_total=4i,")
