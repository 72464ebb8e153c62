"""The network's one endpoint verdict: from Pulsar's queues alone (modules, inventory) and with a health report
(routing)."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils.pulsar_names import PULSAR_CONSUMED, pulsar_queue_names
from ansible_collections.esg.pulsar_network.plugins.module_utils.verdict import endpoint_verdict

NOW = 1_800_000_000.0
NAMES = pulsar_queue_names("production")
ROLES = {role: NAMES[role] for role in PULSAR_CONSUMED}
SETUP_ONLY = {"setup": NAMES["setup"]}
CONSUMED = {"exists": True, "messages_ready": 0, "consumers": 1}
POOL = {"state": "up", "free": {"cpus": 4, "memory_mb": 8192, "gpus": 0}, "total": {"cpus": 4, "memory_mb": 8192, "gpus": 0}}


def figures(ready=0, consumers=1, **override):
    queues = {name: {"exists": True, "messages_ready": ready, "consumers": consumers} for name in NAMES.values()}
    queues[NAMES["status_update"]]["consumers"] = 0  # Galaxy's queue: Pulsar never consumes it
    for role, value in override.items():
        queues[NAMES[role]] = value
    return queues


def judged(queues, roles=ROLES, **kwargs):
    entry = endpoint_verdict(queues, roles, **kwargs)
    return entry["verdict"], entry["reasons"]


def report(age=5.0, pool=None):
    return {"time": NOW - age, "pool": pool or POOL}


def with_report(setup, last, **kwargs):
    return endpoint_verdict(None if setup is None else {NAMES["setup"]: setup}, SETUP_ONLY, last, NOW, reports=True,
                            **kwargs)


def test_healthy_endpoint():
    assert judged(figures(ready=2)) == ("healthy", [])


def test_stalled_endpoint_has_ready_messages_and_no_consumer():
    queues = figures(setup={"exists": True, "messages_ready": 3, "consumers": 0})
    assert judged(queues) == ("stalled", ["nobody consumes pulsar_production__setup (3 ready)"])


def test_endpoint_without_consumers_is_stalled_even_when_empty():
    verdict, reasons = judged(figures(consumers=0))
    assert verdict == "stalled" and len(reasons) == 3


def test_absent_endpoint():
    verdict, reasons = judged(figures(setup={"exists": False, "messages_ready": 0, "consumers": 0}))
    assert verdict == "absent" and reasons == [
        "queue pulsar_production__setup does not exist: Pulsar has never connected to this vhost"]


def test_missing_kill_queue_is_stalled():
    assert judged(figures(kill={"exists": False})) == ("stalled", ["queue pulsar_production__kill does not exist"])


def test_backlog_over_the_limit():
    verdict, reasons = judged(figures(ready=11), max_backlog=10)
    assert verdict == "backlogged"
    assert "pulsar_production__setup holds 11 ready messages (limit 10)" in reasons
    assert judged(figures(ready=10), max_backlog=10) == ("healthy", [])


def test_a_broker_that_cannot_be_read_gives_its_failure_as_the_verdict():
    assert judged(None) == ("unreachable", ["the broker could not be read"])
    refused = ("auth_failed", "broker mq:5671 refused user site_a: wrong password?")
    assert judged(None, broker_error=refused) == refused[:1] + ([refused[1]],)


def test_with_reports_an_endpoint_is_healthy_only_when_consumed_reported_recently_and_its_pool_up():
    entry = with_report(CONSUMED, report())
    assert (entry["verdict"], entry["reasons"], entry["free"]["cpus"], entry["report_age"]) == ("healthy", [], 4, 5.0)
    assert (entry["queued"], entry["consumers"], entry["pool_state"]) == (0, 1, "up")


@pytest.mark.parametrize("verdict, setup, last", [
    ("unreachable", None, report()),
    ("stalled", {"exists": True, "messages_ready": 3, "consumers": 0}, report()),
    ("backlogged", {"exists": True, "messages_ready": 11, "consumers": 1}, report()),
    ("absent", {"exists": False}, report()),
    ("pool_down", CONSUMED, report(pool={"state": "down", "reasons": ["no negotiator"], "free": {}, "total": {}})),
])
def test_what_stops_an_endpoint_is_named(verdict, setup, last):
    assert with_report(setup, last)["verdict"] == verdict


def test_the_pool_down_reason_is_the_reports():
    down = report(pool={"state": "down", "reasons": ["no negotiator"], "free": {}, "total": {}})
    assert with_report(CONSUMED, down)["reasons"] == ["the pool is down: no negotiator"]


def test_a_missing_or_stale_report_is_unknown_not_healthy():
    assert with_report(CONSUMED, None)["verdict"] == "unknown"
    stale = with_report(CONSUMED, report(age=61))
    assert (stale["verdict"], stale["reasons"]) == ("unknown", ["the last health report is 61 s old (limit 60 s)"])
    assert with_report(CONSUMED, report(age=59))["verdict"] == "healthy"


def test_reports_count_only_where_they_are_read():
    assert judged(figures())[0] == "healthy"
    assert endpoint_verdict(figures(), ROLES, None, NOW, reports=True)["verdict"] == "unknown"


def test_draining_comes_first_and_every_reason_is_kept():
    entry = with_report({"exists": True, "messages_ready": 0, "consumers": 0}, None, draining=True)
    assert entry["verdict"] == "draining"
    assert [reason.split(" ")[0] for reason in entry["reasons"]] == ["the", "nobody", "the"]
