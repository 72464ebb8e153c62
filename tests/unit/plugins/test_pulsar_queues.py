"""Pulsar's queue names and endpoint verdicts."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import pulsar_queues as pq


@pytest.mark.parametrize("manager, setup, status_update", [
    ("production", "pulsar_production__setup", "pulsar_production__status_update"),
    ("_default_", "pulsar__setup", "pulsar__status_update"),
    ("galaxy.eu-1", "pulsar_galaxy.eu-1__setup", "pulsar_galaxy.eu-1__status_update"),
])
def test_pulsar_queue_names(manager, setup, status_update):
    names = pq.pulsar_queue_names(manager)
    assert names["setup"] == setup and names["status_update"] == status_update
    assert set(names) == {"setup", "kill", "status", "status_update"}
    assert pq.manager_from_setup_queue(setup) == manager


@pytest.mark.parametrize("manager", ["", "a b", "x/y", None])
def test_bad_manager_names(manager):
    with pytest.raises(ValueError, match="may hold only"):
        pq.pulsar_queue_names(manager)


def test_queues_that_are_not_setup_queues_name_no_manager():
    assert pq.manager_from_setup_queue("pulsar_production__status") is None
    assert pq.manager_from_setup_queue("celery") is None


ROLES = pq.pulsar_queue_names("production")


def figures(ready=0, consumers=1, **override):
    queues = {name: {"exists": True, "messages_ready": ready, "consumers": consumers} for name in ROLES.values()}
    queues[ROLES["status_update"]]["consumers"] = 0  # Galaxy's queue: Pulsar never consumes it
    for role, value in override.items():
        queues[ROLES[role]] = value
    return queues


def test_healthy_endpoint():
    assert pq.endpoint_verdict(figures(ready=2), ROLES, max_ready=10) == ("healthy", [])


def test_stalled_endpoint_has_ready_messages_and_no_consumer():
    verdict, reasons = pq.endpoint_verdict(figures(setup={"exists": True, "messages_ready": 3, "consumers": 0}), ROLES, 10)
    assert verdict == "stalled"
    assert reasons == ["nobody consumes pulsar_production__setup (3 ready)"]


def test_endpoint_without_consumers_is_stalled_even_when_empty():
    verdict, reasons = pq.endpoint_verdict(figures(consumers=0), ROLES, 10)
    assert verdict == "stalled" and len(reasons) == 3


def test_absent_endpoint():
    verdict, reasons = pq.endpoint_verdict(figures(setup={"exists": False, "messages_ready": 0, "consumers": 0}), ROLES, 10)
    assert verdict == "absent"
    assert "never connected" in reasons[0]


def test_missing_kill_queue_is_stalled():
    verdict, reasons = pq.endpoint_verdict(figures(kill={"exists": False}), ROLES, 10)
    assert (verdict, reasons) == ("stalled", ["queue pulsar_production__kill does not exist"])


def test_backlog_over_the_limit():
    verdict, reasons = pq.endpoint_verdict(figures(ready=11), ROLES, 10)
    assert verdict == "backlogged"
    assert "pulsar_production__setup holds 11 ready messages (limit 10)" in reasons
