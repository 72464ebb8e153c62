"""What keeps one client from exhausting the service: credentials before the body, a capped body, capped fields and
counts, pages that end early rather than grow, and inputs that would have been a 500 answered 400 naming the field."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import ECHO, bearer, settings_data
from fastapi.testclient import TestClient

from pulsar_network_tes.app import create_app
from pulsar_network_tes.config import ConfigError, parse


def call_asgi(app, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bool]:
    """One request straight to the ASGI app: its status, and whether the app asked for the body at all."""
    asked = {"body": False}
    sent: list[dict] = []

    async def receive():
        asked["body"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 8081),
             "client": ("127.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start"), asked["body"]


def test_credentials_are_checked_before_the_body_is_read(tmp_path, store, backend):
    app = create_app(parse(settings_data(tmp_path)), store, backend)
    body = json.dumps(ECHO).encode()
    status, asked = call_asgi(app, "POST", "/ga4gh/tes/v1/tasks",
                              {"content-type": "application/json", "content-length": str(len(body))}, body)
    assert (status, asked) == (401, False)
    status, asked = call_asgi(app, "POST", "/ga4gh/tes/v1/tasks",
                              {"content-type": "application/json", "content-length": str(len(body)),
                               **bearer("alice")}, body)
    assert (status, asked) == (200, True)


def test_a_body_over_the_cap_is_413_and_not_stored(make_client_on, tmp_path, store, backend):
    client = TestClient(create_app(parse(settings_data(tmp_path, limits={"max_body_bytes": 4096})), store, backend))
    big = {**ECHO, "inputs": [{"path": "/in/big.txt", "content": "x" * 5000}]}
    answer = client.post("/v1/tasks", json=big, headers=bearer("alice"))
    assert answer.status_code == 413 and answer.json()["message"].startswith("body: larger than 4096 bytes"), answer.text
    # Streamed without a length: counted as it comes.
    chunks = iter([json.dumps(big).encode()[:3000], json.dumps(big).encode()[3000:]])
    answer = client.post("/v1/tasks", content=chunks, headers={**bearer("alice"), "content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert backend.submitted == [] and store.list(__import__("pulsar_network_tes.store").store.Query())[0] == []


@pytest.mark.parametrize("body, message", [
    ({**ECHO, "executors": ECHO["executors"] * 65}, "executors: List should have at most 64 items"),
    ({**ECHO, "tags": {f"k{i}": "v" for i in range(257)}}, "tags: Dictionary should have at most 256 items"),
    ({**ECHO, "inputs": [{"path": f"/in/{i}", "content": "x"} for i in range(1025)]},
     "inputs: List should have at most 1024 items"),
    ({**ECHO, "name": "n" * 5000}, "name: String should have at most 4096 characters"),
])
def test_counts_and_sizes_are_capped(client, backend, body, message):
    answer = client.post("/v1/tasks", json=body, headers=bearer("alice"))
    assert answer.status_code == 400 and answer.json()["message"].startswith(message), answer.text
    assert backend.submitted == []


@pytest.mark.parametrize("text, field", [
    ('{"name": "\\ud800", "executors": [{"image": "i", "command": ["true"]}]}', "name"),
    ('{"tags": {"k": "\\udfff"}, "executors": [{"image": "i", "command": ["true"]}]}', "tags.k"),
    ('{"tags": {"\\ud800": "v"}, "executors": [{"image": "i", "command": ["true"]}]}', "tags"),
    ('{"executors": [{"image": "i", "command": ["echo", "\\ud800"]}]}', "executors[0].command[1]"),
])
def test_a_lone_surrogate_is_400_naming_the_field(client, backend, text, field):
    answer = client.post("/v1/tasks", content=text.encode(), headers={**bearer("alice"), "content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(f"{field}: "), answer.json()


@pytest.mark.parametrize("params, message", [
    ({"page_token": "c2VxOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}, "page_token: not a token this service handed out"),
    ({"tag_key": [f"k{i}" for i in range(1000)]}, "tag_key: at most 32 tag filters"),
])
def test_list_parameters_that_broke_the_store_are_400(client, params, message):
    answer = client.get("/v1/tasks", params=params, headers=bearer("alice"))
    assert answer.status_code == 400 and answer.json()["message"] == message, answer.text


def test_a_page_ends_early_rather_than_grow(tmp_path, store, backend):
    client = TestClient(create_app(parse(settings_data(tmp_path, limits={"max_page_bytes": 250_000})), store, backend))
    ids = []
    for number in range(5):
        body = {**ECHO, "name": f"big-{number}", "inputs": [{"path": "/in/x", "content": "y" * 100_000}]}
        ids.append(client.post("/v1/tasks", json=body, headers=bearer("alice")).json()["id"])
    seen, token, pages = [], None, 0
    while True:
        params = {"view": "FULL", "page_size": 10, **({"page_token": token} if token else {})}
        body = client.get("/v1/tasks", params=params, headers=bearer("alice")).json()
        pages += 1
        assert len(json.dumps(body)) < 250_000 + 110_000  # at most one task past the budget: a page is never empty
        seen += [t["id"] for t in body["tasks"]]
        token = body.get("next_page_token")
        if not token:
            break
    assert pages >= 3 and seen == ids[::-1]
    minimal = client.get("/v1/tasks", params={"page_size": 10}, headers=bearer("alice")).json()
    assert [t["id"] for t in minimal["tasks"]] == ids[::-1] and "next_page_token" not in minimal


def test_health_is_served_to_loopback_only(tmp_path, store, backend):
    app = create_app(parse(settings_data(tmp_path)), store, backend)
    assert TestClient(app, client=("127.0.0.1", 40000)).get("/healthz").status_code == 200
    # Through nginx, uvicorn takes the client from X-Forwarded-For: a remote caller is not loopback.
    assert TestClient(app, client=("192.0.2.10", 40000)).get("/healthz").status_code == 404


@pytest.mark.parametrize("users, message", [
    ([{"name": "anonymous", "token_sha256": "0" * 64}], "auth.users[0].name: anonymous is the name of callers without"),
    ([{"name": "eve", "token_sha256": "0" * 64}, {"name": "eve", "token_sha256": "1" * 64}],
     "auth.users[1].name: eve appears twice"),
    ([{"name": "../eve", "token_sha256": "0" * 64}], "auth.users[0].name: ../eve: use letters, digits"),
])
def test_user_names_that_would_share_tasks_are_refused(tmp_path, users, message):
    data = settings_data(tmp_path)
    data["auth"]["users"] = users
    with pytest.raises(ConfigError) as refused:
        parse(data)
    assert str(refused.value).startswith(message), refused.value
