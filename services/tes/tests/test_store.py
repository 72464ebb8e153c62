"""The task store: what survives a restart, what a restarted service must reconcile, and final states."""

from __future__ import annotations

from pulsar_network_tes.models import State
from pulsar_network_tes.store import Query, TaskStore


def test_tasks_survive_a_restart(tmp_path):
    path = str(tmp_path / "tasks.sqlite")
    first = TaskStore(path)
    done = first.create("alice", {"executors": [{"image": "i", "command": ["true"]}]})
    running = first.create("alice", {"executors": [{"image": "i", "command": ["sleep", "60"]}], "tags": {"k": "v"}})
    first.update(done["id"], State.COMPLETE)
    first.update(running["id"], State.RUNNING)
    first.close()

    again = TaskStore(path)
    assert again.get(done["id"]) == ("alice", {**done, "state": "COMPLETE"})
    assert [t["id"] for t in again.unfinished()] == [running["id"]]
    assert [t["id"] for t in again.list(Query(tags={"k": "v"}))[0]] == [running["id"]]


def test_a_final_state_is_kept(tmp_path):
    store = TaskStore(str(tmp_path / "tasks.sqlite"))
    task = store.create("alice", {"executors": []})
    store.update(task["id"], State.CANCELED)
    # A late status message (the job's own end, say) does not turn a canceled task into a complete one.
    assert store.update(task["id"], State.COMPLETE, logs=[{"logs": [], "outputs": []}])["state"] == "CANCELED"
    assert store.update("missing", State.RUNNING) is None


def test_owner_and_pages(tmp_path):
    store = TaskStore(str(tmp_path / "tasks.sqlite"))
    mine = [store.create("alice", {"name": f"a{i}"})["id"] for i in range(5)]
    store.create("bob", {"name": "b"})
    page, token = store.list(Query(owner="alice", page_size=2))
    assert [t["id"] for t in page] == mine[:-3:-1] and token
    rest, last = store.list(Query(owner="alice", page_size=10, page_token=token))
    assert [t["id"] for t in rest] == mine[-3::-1] and last is None
