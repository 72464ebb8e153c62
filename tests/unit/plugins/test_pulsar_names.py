"""Pulsar's queue names."""
import pytest

from ansible_collections.esg.pulsar_network.plugins.module_utils import pulsar_names as names_


@pytest.mark.parametrize("manager, setup, status_update", [
    ("production", "pulsar_production__setup", "pulsar_production__status_update"),
    ("_default_", "pulsar__setup", "pulsar__status_update"),
    ("galaxy.eu-1", "pulsar_galaxy.eu-1__setup", "pulsar_galaxy.eu-1__status_update"),
])
def test_pulsar_queue_names(manager, setup, status_update):
    names = names_.pulsar_queue_names(manager)
    assert names["setup"] == setup and names["status_update"] == status_update
    assert set(names) == {"setup", "kill", "status", "status_update"}
    assert names_.manager_from_setup_queue(setup) == manager


@pytest.mark.parametrize("manager", ["", "a b", "x/y", None])
def test_bad_manager_names(manager):
    with pytest.raises(ValueError, match="may hold only"):
        names_.pulsar_queue_names(manager)


def test_queues_that_are_not_setup_queues_name_no_manager():
    assert names_.manager_from_setup_queue("pulsar_production__status") is None
    assert names_.manager_from_setup_queue("celery") is None
