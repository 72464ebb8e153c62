"""The task store, on SQLite and on a real PostgreSQL server: what survives a restart, what a restarted service must
reconcile, final states, owners, pages and filters; and a PostgreSQL server that goes away and comes back."""

from __future__ import annotations

import pytest
from conftest import ECHO, bearer

from pulsar_network_tes.models import State
from pulsar_network_tes.store import Query, StoreUnavailable, TaskStore


def test_tasks_survive_a_restart(store_location):
    first = TaskStore(store_location)
    done = first.create("alice", {"executors": [{"image": "i", "command": ["true"]}]})
    running = first.create("alice", {"executors": [{"image": "i", "command": ["sleep", "60"]}], "tags": {"k": "v"}})
    first.update(done["id"], State.COMPLETE)
    first.update(running["id"], State.RUNNING)
    first.close()

    again = TaskStore(store_location)
    assert again.get(done["id"]) == ("alice", {**done, "state": "COMPLETE"})
    assert [t["id"] for t in again.unfinished()] == [running["id"]]
    assert [t["id"] for t in again.list(Query(tags={"k": "v"}))[0]] == [running["id"]]
    again.close()


def test_a_final_state_is_kept(store_location):
    store = TaskStore(store_location)
    task = store.create("alice", {"executors": []})
    store.update(task["id"], State.CANCELED)
    # A late status message (the job's own end, say) does not turn a canceled task into a complete one.
    assert store.update(task["id"], State.COMPLETE, logs=[{"logs": [], "outputs": []}])["state"] == "CANCELED"
    assert store.update("missing", State.RUNNING) is None
    store.close()


def test_owner_and_pages(store_location):
    store = TaskStore(store_location)
    mine = [store.create("alice", {"name": f"a{i}"})["id"] for i in range(5)]
    store.create("bob", {"name": "b"})
    page, token = store.list(Query(owner="alice", page_size=2))
    assert [t["id"] for t in page] == mine[:-3:-1] and token
    rest, last = store.list(Query(owner="alice", page_size=10, page_token=token))
    assert [t["id"] for t in rest] == mine[-3::-1] and last is None
    store.close()


def test_filters_mean_the_same_on_both_databases(store_location):
    store = TaskStore(store_location)
    made = {name: store.create("alice", {"name": name, "tags": tags})["id"]
            for name, tags in [("Align_1", {"run": "1"}), ("align_2", {"run": "2", "x": ""}), ("a%lign", {})]}
    store.update(made["align_2"], State.RUNNING)

    def names(**query):
        return sorted(t["name"] for t in store.list(Query(**query))[0])

    # A prefix is matched as written: case counts, and % or _ are not wildcards.
    assert names(name_prefix="align") == ["align_2"]
    assert names(name_prefix="a%") == ["a%lign"]
    assert names(name_prefix="Align_") == ["Align_1"]
    assert names(state=State.RUNNING) == ["align_2"]
    assert names(tags={"run": ""}) == ["Align_1", "align_2"]
    assert names(tags={"run": "2", "x": ""}) == ["align_2"]
    store.close()


def test_postgresql_outage_is_503_and_the_store_comes_back(postgresql, make_client_on, backend):
    """The server stops under a running service: answers are 503, not 500; once it is back the same store works."""
    store = TaskStore(postgresql.new_database())
    client = make_client_on(store, backend)
    created = client.post("/ga4gh/tes/v1/tasks", json=ECHO, headers=bearer("alice"))
    assert created.status_code == 200, created.text
    postgresql.stop()
    try:
        answer = client.get(f"/ga4gh/tes/v1/tasks/{created.json()['id']}", headers=bearer("alice"))
        assert answer.status_code == 503 and "task store" in answer.json()["message"]
        assert client.get("/healthz").status_code == 503
        with pytest.raises(StoreUnavailable):
            store.create("alice", {"name": "during the outage"})
    finally:
        postgresql.start()
    again = client.get(f"/ga4gh/tes/v1/tasks/{created.json()['id']}", headers=bearer("alice"))
    assert again.status_code == 200 and again.json()["state"] == "QUEUED"
    store.close()


def test_a_postgresql_restart_between_calls_costs_no_failed_call(postgresql):
    store = TaskStore(postgresql.new_database())
    task = store.create("alice", {"name": "before"})
    postgresql.stop()
    postgresql.start()
    assert store.get(task["id"])[1]["name"] == "before"  # a read first on the dropped connection
    postgresql.stop()
    postgresql.start()
    assert store.update(task["id"], State.RUNNING)["state"] == "RUNNING"  # a transaction first
    store.close()


def test_an_unreachable_postgresql_says_so_without_the_password(tmp_path):
    with pytest.raises(StoreUnavailable) as error:
        TaskStore(f"postgresql://tes:NOT-SHOWN-pw@/tes?host={tmp_path}&port=5999")
    assert "PostgreSQL" in str(error.value) and "NOT-SHOWN" not in str(error.value)
