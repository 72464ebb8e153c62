"""Routing that follows endpoint health: which healthy endpoint gets a job."""
import json
import random
from types import SimpleNamespace

from ansible_collections.esg.pulsar_network.plugins.module_utils import routing
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import endpoint_verdict

NOW = 1_800_000_000.0
CONSUMED = {"exists": True, "messages_ready": 0, "consumers": 1}
SETUP = "pulsar_production__setup"
ROLES = {"setup": SETUP}
POOL = {"state": "up", "free": {"cpus": 4, "memory_mb": 8192, "gpus": 0}, "total": {"cpus": 4, "memory_mb": 8192, "gpus": 0}}


def report(age=5.0, pool=None):
    return {"time": NOW - age, "pool": pool or POOL}


def healthy(free_cpus, total_cpus=None, memory_mb=8192):
    return {"verdict": "healthy", "free": {"cpus": free_cpus, "memory_mb": memory_mb},
            "total": {"cpus": total_cpus or free_cpus, "memory_mb": memory_mb}}


def test_only_healthy_endpoints_are_ordered():
    health = {"time": NOW, "endpoints": {"a": healthy(2), "b": {"verdict": "stalled"}, "c": {"verdict": "unknown"}}}
    assert routing.order_endpoints(["b", "a", "c", "unlisted"], health, now=NOW) == ["a"]


def test_a_stale_document_routes_nowhere():
    health = {"time": NOW - 120, "endpoints": {"a": healthy(2)}}
    assert routing.order_endpoints(["a"], health, now=NOW) == []
    assert routing.order_endpoints(["a"], {}, now=NOW) == []


def test_ties_are_spread_and_the_freer_endpoint_comes_first():
    rng = random.Random(7)
    tie = {"time": NOW, "endpoints": {"a": healthy(2), "b": healthy(2)}}
    firsts = [routing.order_endpoints(["a", "b"], tie, now=NOW, rng=rng)[0] for _draw in range(400)]
    assert 150 < firsts.count("a") < 250
    skewed = {"time": NOW, "endpoints": {"a": healthy(3), "b": healthy(2)}}
    assert {routing.order_endpoints(["a", "b"], skewed, now=NOW, rng=rng)[0] for _draw in range(50)} == {"a"}


def test_a_burst_on_the_same_figures_spreads_over_both_endpoints(monkeypatch):
    monkeypatch.setattr(routing, "_routed", {})
    report_time = NOW - 10
    health = {"time": NOW, "endpoints": {name: {**healthy(2), "report": {"time": report_time}} for name in ("a", "b")}}
    chosen = []
    for n in range(4):
        first = routing.order_endpoints(["a", "b"], health, now=NOW + n)[0]
        routing.record_routed(first, 1, 0, 0, now=NOW + n)
        chosen.append(first)
    assert sorted(chosen) == ["a", "a", "b", "b"]
    # a new report (after the jobs were routed) replaces what was taken off
    health["endpoints"]["a"]["report"] = {"time": NOW + 10}
    assert routing.order_endpoints(["a", "b"], health, now=NOW + 11) == ["a", "b"]


def test_an_endpoint_the_job_fits_into_now_comes_before_a_full_one():
    health = {"time": NOW, "endpoints": {"full": healthy(0, total_cpus=64), "small": healthy(2)}}
    for seed in range(20):
        assert routing.order_endpoints(["full", "small"], health, cores=2, now=NOW, rng=random.Random(seed)) == ["small", "full"]
    # memory counts too: 2 free cores, but too little memory for a 4 GB job
    health = {"time": NOW, "endpoints": {"a": healthy(2, memory_mb=2048), "b": healthy(1, memory_mb=8192)}}
    assert routing.order_endpoints(["a", "b"], health, cores=1, mem_gb=4, now=NOW)[0] == "b"


def test_the_tpv_hook_ranks_destinations_and_returns_none_when_no_endpoint_is_healthy(tmp_path):
    path = tmp_path / "health.json"
    path.write_text(json.dumps({"time": __import__("time").time(), "endpoints": {"a": healthy(2), "b": {"verdict": "stalled"}}}))
    a, b = (SimpleNamespace(id=name, runner=f"pulsar_{name}") for name in ("a", "b"))
    local = SimpleNamespace(id="local", runner="local")
    entity = SimpleNamespace(cores=1, mem=1, gpus=0)
    assert routing.rank([b, a], entity, str(path)) == [a]
    assert routing.rank([local], entity, str(path)) == [local]
    assert routing.rank([b, local], entity, str(path)) == [local]
    assert routing.rank([b], entity, str(path)) == []
    assert routing.rank([a], entity, str(tmp_path / "missing.json")) == []


def test_a_draining_endpoint_gets_no_new_jobs_however_healthy():
    entry = endpoint_verdict({SETUP: CONSUMED}, ROLES, report(), NOW, reports=True, draining=True)
    assert entry["verdict"] == "draining" and "offboarding" in entry["reasons"][0]
    assert routing.order_endpoints(["a"], {"time": NOW, "endpoints": {"a": entry}}, now=NOW) == []
