"""galaxy-network-health: what Galaxy's routing reads, from the broker's view of each endpoint (mocked here; the
network scenario reads the real broker)."""
import importlib.util
import json
import pathlib
import time

import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import network_health
from ansible_collections.esg.pulsar_network.plugins.module_utils.broker import BrokerError

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "roles/usegalaxy_replica/files/galaxy_network_health.py"
CONFIG = {"endpoints": [{"name": "a", "amqp_url": "pyamqp://a.g:pw@mq:5671//pulsar/a/g?ssl=1", "manager": "production"},
                        {"name": "b", "amqp_url": "pyamqp://b.g:pw@mq:5671//pulsar/b/g?ssl=1"}],
          "ca_file": "/etc/galaxy/amqp-ca.crt", "interval": 15, "max_age": 60, "max_backlog": 10}
POOL = {"state": "up", "free": {"cpus": 2, "memory_mb": 2048}, "total": {"cpus": 2, "memory_mb": 2048}}


@pytest.fixture
def collector(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("galaxy_network_health", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = {"consumers": {"a": 1, "b": 0}, "reports": {"a": {"time": time.time(), "pool": POOL}, "b": None},
             "unreachable": set(), "asked": []}

    def figures(url, queues, ca_file=None):
        name = url.split("//")[1][0]
        state["asked"].append((name, tuple(queues), ca_file))
        if name in state["unreachable"]:
            raise BrokerError("unreachable", "broker unreachable: [Errno 111] Connection refused")
        return {queues[0]: {"exists": True, "messages_ready": 0, "consumers": state["consumers"][name]}}

    monkeypatch.setattr(network_health, "queue_figures", figures)
    monkeypatch.setattr(network_health, "peek_report", lambda url, ca_file=None: state["reports"][url.split("//")[1][0]])
    state["run"] = lambda: module.run_once(CONFIG, tmp_path / "health.json", tmp_path / "metrics/endpoints.prom")
    state["tmp"] = tmp_path
    state["module"] = module
    return state


def test_each_endpoints_setup_queue_and_report_make_its_verdict(collector):
    document = collector["run"]()
    assert collector["asked"] == [("a", ("pulsar_production__setup",), "/etc/galaxy/amqp-ca.crt"),
                                  ("b", ("pulsar_production__setup",), "/etc/galaxy/amqp-ca.crt")]
    assert {name: entry["verdict"] for name, entry in document["endpoints"].items()} == {"a": "healthy", "b": "stalled"}
    assert json.loads((collector["tmp"] / "health.json").read_text()) == document
    metrics = (collector["tmp"] / "metrics/endpoints.prom").read_text()
    assert 'pulsar_network_endpoint_healthy{endpoint="a",verdict="healthy"} 1' in metrics
    assert 'pulsar_network_endpoint_healthy{endpoint="b",verdict="stalled"} 0' in metrics
    assert 'pulsar_network_endpoint_free_cpus{endpoint="a",verdict="healthy"} 2' in metrics


def test_a_report_another_reader_holds_is_taken_from_the_last_document(collector):
    collector["run"]()
    collector["reports"]["a"] = None
    assert collector["run"]()["endpoints"]["a"]["verdict"] == "healthy"


def test_an_unreachable_broker_is_not_healthy_and_says_so(collector):
    collector["unreachable"].add("a")
    entry = collector["run"]()["endpoints"]["a"]
    assert (entry["verdict"], entry["reasons"][0]) == ("unreachable", "broker unreachable: [Errno 111] Connection refused")


def test_the_status_page_has_a_row_per_endpoint_with_what_routing_saw(collector):
    collector["reports"]["a"]["last_job_completed"] = collector["reports"]["a"]["time"] - 300
    document = collector["run"]()
    page = collector["module"].status_html(document)
    rows = page.split("<tbody>")[1].split("</tbody>")[0].strip().splitlines()
    assert len(rows) == 2
    assert rows[0].startswith('<tr class="healthy"><td>a</td><td>healthy</td><td>-</td><td>0</td><td>1</td><td>2 / 2</td>')
    assert "(5 min ago)" in rows[0] and rows[0].endswith("<td>0 s ago</td></tr>")
    assert rows[1].startswith('<tr class="stalled"><td>b</td><td>stalled</td><td>nobody consumes pulsar_production__setup')
    assert "<td>never</td><td>never</td></tr>" in rows[1]


def test_an_endpoint_the_operator_drains_is_draining_however_healthy(collector, monkeypatch):
    monkeypatch.setitem(CONFIG, "endpoints", [{**CONFIG["endpoints"][0], "draining": True}, CONFIG["endpoints"][1]])
    entry = collector["run"]()["endpoints"]["a"]
    assert entry["verdict"] == "draining" and entry["consumers"] == 1
