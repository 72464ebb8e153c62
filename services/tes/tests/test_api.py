"""The HTTP API against the TES 1.1 document: every answer validated against its schema, every refusal named."""

from __future__ import annotations

import copy

import pytest
from conftest import ECHO, RecordingBackend, basic, bearer, settings_data
from fastapi.testclient import TestClient
from openapi import response_schema, validate, validate_task

from pulsar_network_tes.app import create_app
from pulsar_network_tes.config import parse
from pulsar_network_tes.models import State
from pulsar_network_tes.store import TaskStore

PREFIXES = ["/ga4gh/tes/v1", "/v1"]


def create(client, body=None, user="alice"):
    response = client.post("/ga4gh/tes/v1/tasks", json=body or ECHO, headers=bearer(user))
    assert response.status_code == 200, response.text
    validate(response.json(), response_schema("/tasks", "post"))
    return response.json()["id"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("credentials", [{}, bearer("alice"), {"Authorization": "Bearer not-a-token"}],
                         ids=["none", "alice", "wrong"])
def test_service_info_is_public_under_both_prefixes(client, prefix, credentials):
    response = client.get(f"{prefix}/service-info", headers=credentials)
    assert response.status_code == 200, response.text
    info = response.json()
    validate(info, response_schema("/service-info", "get"))
    assert info["type"]["artifact"] == "tes" and info["id"] == "test.pulsar-network.tes"
    assert info["tesResources_backend_parameters"] == ["request_walltime"]


def test_service_info_storage_is_what_file_urls_may_name(tmp_path):
    roots = [str(tmp_path / "a"), str(tmp_path / "b")]
    app = create_app(parse(settings_data(tmp_path, backend={"storage_roots": roots})),
                     TaskStore(str(tmp_path / "tasks.sqlite")), RecordingBackend())
    with TestClient(app) as client:
        assert client.get("/v1/service-info").json()["storage"] == [f"file://{root}" for root in roots]


@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/tasks"), ("POST", "/v1/tasks"), ("GET", "/ga4gh/tes/v1/tasks/x"), ("POST", "/v1/tasks/x:cancel"),
    ("POST", "/v1/service-info"), ("HEAD", "/v1/service-info"), ("OPTIONS", "/ga4gh/tes/v1/service-info"),
    ("GET", "/v1/service-info/"), ("GET", "/v1/service-info%2F..%2Ftasks"), ("GET", "/v1/service-infox")])
def test_only_reading_service_info_is_public(client, method, path):
    assert client.request(method, path).status_code == 401


@pytest.mark.parametrize("view", ["MINIMAL", "BASIC", "FULL"])
def test_created_task_in_each_view(client, backend, view):
    body = copy.deepcopy(ECHO)
    body["inputs"] = [{"path": "/data/in.txt", "content": "hello"}]
    task_id = create(client, body)
    assert [t["id"] for t in backend.submitted] == [task_id]
    response = client.get(f"/v1/tasks/{task_id}", params={"view": view}, headers=bearer("alice"))
    assert response.status_code == 200
    task = response.json()
    validate_task(task, view)
    assert task["state"] == "QUEUED"
    if view == "BASIC":
        assert "content" not in task["inputs"][0] and task["executors"] == ECHO["executors"]
    if view == "FULL":
        assert task["inputs"][0]["content"] == "hello" and task["creation_time"].endswith("Z")


def test_default_view_is_minimal(client):
    task_id = create(client)
    assert client.get(f"/v1/tasks/{task_id}", headers=bearer("alice")).json() == {"id": task_id, "state": "QUEUED"}


def test_fractional_cores_are_accepted(client, backend):
    body = {**ECHO, "resources": {"cpu_cores": 0.5, "ram_gb": 1.5}}
    create(client, body)
    assert backend.submitted[0]["resources"] == {"cpu_cores": 0.5, "ram_gb": 1.5}


@pytest.mark.parametrize("body, field", [
    ({"name": "x"}, "executors: Field required"),
    ({"executors": []}, "executors: List should have at least 1 item"),
    ({"executors": [{"image": 7, "command": ["echo"]}]}, "executors[0].image: Input should be a valid string"),
    ({"executors": [{"image": "i", "command": "echo hi"}]}, "executors[0].command: Input should be a valid list"),
    ({**ECHO, "resources": {"cpu_cores": "two"}}, "resources.cpu_cores: Input should be a valid number"),
    ({**ECHO, "inputs": [{"path": "in.txt", "content": "x"}]}, "inputs[0].path: must be an absolute path"),
    ({**ECHO, "inputs": [{"path": "/in.txt"}]}, "inputs[0]: give exactly one of url and content"),
    ({**ECHO, "outputs": [{"path": "/out/*.txt", "url": "file:///tmp/o"}]}, "outputs[0]: a wildcard path needs path_prefix"),
    ({**ECHO, "tags": {"k": 1}}, "tags.k: Input should be a valid string"),
])
def test_bad_requests_are_400_naming_the_field(client, backend, body, field):
    response = client.post("/ga4gh/tes/v1/tasks", json=body, headers=bearer("alice"))
    assert response.status_code == 400
    assert response.json()["message"].startswith(field), response.json()
    assert backend.submitted == []


def test_malformed_json_is_400(client):
    response = client.post("/v1/tasks", content=b'{"executors": [', headers={**bearer("alice"),
                                                                             "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("body: malformed JSON")


def test_more_cores_than_any_endpoint_is_a_clear_error(client, backend):
    response = client.post("/v1/tasks", json={**ECHO, "resources": {"cpu_cores": 64}}, headers=bearer("alice"))
    assert response.status_code == 400
    assert response.json()["message"] == "resources.cpu_cores: 64 cores is more than any endpoint has (the largest has 16)"
    response = client.post("/v1/tasks", json={**ECHO, "resources": {"cpu_cores": 8, "ram_gb": 8}}, headers=bearer("alice"))
    assert response.json()["message"] == "resources: no endpoint has both 8 cores and 8 GB"
    assert backend.submitted == []


def test_unknown_backend_parameters_reported_or_refused(client, backend):
    loose = {**ECHO, "resources": {"backend_parameters": {"VmSize": "big", "request_walltime": "1h"}}}
    task_id = create(client, loose)
    task = client.get(f"/v1/tasks/{task_id}", params={"view": "FULL"}, headers=bearer("alice")).json()
    validate_task(task, "FULL")
    assert task["logs"][0]["system_logs"] == ["ignored backend_parameters: VmSize"]
    strict = copy.deepcopy(loose)
    strict["resources"]["backend_parameters_strict"] = True
    response = client.post("/v1/tasks", json=strict, headers=bearer("alice"))
    assert response.status_code == 400
    assert response.json()["message"] == "resources.backend_parameters: not supported here: VmSize"
    assert len(backend.submitted) == 1


def test_unknown_id_is_404(client):
    response = client.get("/v1/tasks/no-such-task", headers=bearer("alice"))
    assert response.status_code == 404 and response.json()["message"] == "id: no task no-such-task"


def test_credentials_required(client):
    assert client.get("/v1/tasks").status_code == 401
    assert client.get("/v1/tasks", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/tasks", headers=basic("bob", "wrong")).status_code == 401
    assert client.get("/v1/tasks", headers=basic("bob")).status_code == 200


def test_anonymous_only_when_allowed(make_client, store, backend):
    client = make_client(backend, anonymous=True)
    task_id = client.post("/v1/tasks", json=ECHO).json()["id"]
    assert store.get(task_id)[0] == "anonymous"


def test_a_user_sees_and_cancels_only_their_own_tasks(client, backend):
    alices = create(client, user="alice")
    bobs = client.post("/v1/tasks", json=ECHO, headers=basic("bob")).json()["id"]
    assert client.get(f"/v1/tasks/{alices}", headers=basic("bob")).status_code == 404
    assert client.post(f"/v1/tasks/{alices}:cancel", headers=basic("bob")).status_code == 404
    listed = client.get("/v1/tasks", headers=basic("bob")).json()
    assert [t["id"] for t in listed["tasks"]] == [bobs]
    everyone = client.get("/v1/tasks", headers=bearer("admin")).json()
    assert {t["id"] for t in everyone["tasks"]} == {alices, bobs}
    assert client.post(f"/v1/tasks/{bobs}:cancel", headers=bearer("admin")).status_code == 200
    assert [t["id"] for t in backend.canceled] == [bobs]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_cancel_marks_canceling_and_tells_the_backend(client, backend, prefix):
    task_id = create(client)
    response = client.post(f"{prefix}/tasks/{task_id}:cancel", headers=bearer("alice"))
    assert response.status_code == 200
    validate(response.json(), response_schema("/tasks/{id}:cancel", "post"))
    assert client.get(f"/v1/tasks/{task_id}", headers=bearer("alice")).json()["state"] == "CANCELING"
    assert [t["id"] for t in backend.canceled] == [task_id]


def test_cancel_of_a_finished_task_changes_nothing(client, backend, store):
    task_id = create(client)
    store.update(task_id, State.COMPLETE)
    assert client.post(f"/v1/tasks/{task_id}:cancel", headers=bearer("alice")).status_code == 200
    assert store.get(task_id)[1]["state"] == "COMPLETE" and backend.canceled == []


def test_list_filters(client, store):
    first = create(client, {**ECHO, "name": "align-1", "tags": {"project": "p1", "step": "align"}})
    second = create(client, {**ECHO, "name": "align-2", "tags": {"project": "p2"}})
    third = create(client, {**ECHO, "name": "call-1", "tags": {"project": "p1"}})
    store.update(third, State.RUNNING)

    def ids(**params):
        response = client.get("/ga4gh/tes/v1/tasks", params=params, headers=bearer("alice"))
        assert response.status_code == 200, response.text
        body = response.json()
        validate(body, "tesListTasksResponse") if params.get("view") in ("BASIC", "FULL") else None
        for task in body["tasks"]:
            validate_task(task, params.get("view", "MINIMAL"))
        return [t["id"] for t in body["tasks"]]

    assert ids() == [third, second, first]
    assert ids(name_prefix="align") == [second, first]
    assert ids(name_prefix="al%") == []
    assert ids(state="RUNNING") == [third]
    assert ids(tag_key="project", tag_value="p1") == [third, first]
    assert ids(tag_key=["project", "step"], tag_value=["p1", "align"]) == [first]
    assert ids(tag_key="step") == [first]
    assert ids(tag_key="project", view="FULL") == [third, second, first]
    response = client.get("/v1/tasks", params={"state": "DONE"}, headers=bearer("alice"))
    assert response.status_code == 400 and response.json()["message"].startswith("state: ")
    response = client.get("/v1/tasks", params={"tag_value": "p1"}, headers=bearer("alice"))
    assert response.status_code == 400 and response.json()["message"] == "tag_value: more values than tag_key"


def test_pagination_across_pages(client):
    made = [create(client, {**ECHO, "name": f"t{i}"}) for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": 3, **({"page_token": token} if token else {})}
        body = client.get("/v1/tasks", params=params, headers=bearer("alice")).json()
        validate({"tasks": [], **{k: v for k, v in body.items() if k != "tasks"}}, "tesListTasksResponse")
        seen += [t["id"] for t in body["tasks"]]
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
    assert pages == 3 and seen == made[::-1]


@pytest.mark.parametrize("params, message", [
    ({"page_size": 0}, "page_size: "),
    ({"page_size": 2048}, "page_size: "),
    ({"page_token": "not-a-token"}, "page_token: not a token this service handed out"),
    ({"view": "ALL"}, "view: "),
])
def test_bad_list_parameters_are_400(client, params, message):
    response = client.get("/v1/tasks", params=params, headers=bearer("alice"))
    assert response.status_code == 400 and response.json()["message"].startswith(message), response.json()


def test_health_endpoint(client):
    assert client.get("/healthz").json() == {"status": "ok", "store": "ok", "endpoints": {}, "healthy_endpoints": 0}


def test_an_unexpected_failure_is_500_without_detail(make_client):
    class BrokenBackend:
        def submit(self, task):
            raise RuntimeError("broker password is hunter2")

        def cancel(self, task):
            raise RuntimeError("unused")

    response = make_client(BrokenBackend()).post("/v1/tasks", json=ECHO, headers=bearer("alice"))
    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "message": "internal error; see the service's log"}
    assert "hunter2" not in response.text


def test_an_unknown_route_is_404_with_a_message(client):
    answer = client.get("/tasks/abc", headers=bearer("alice"))
    assert answer.status_code == 404
    assert answer.json() == {"status_code": 404, "message": "/tasks/abc: Not Found"}
