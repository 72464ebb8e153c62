"""What a task may not name (issue #26): an image the runtime would take for an option, container paths that
podman's --volume syntax would split or that climb out of their directory, env names the runtime cannot pass.
Each is a 400 naming the field; a task that is not refused reaches the backend unchanged."""

from __future__ import annotations

import pytest
from conftest import ECHO, bearer

EXECUTOR = ECHO["executors"][0]
OUTPUT = {"url": "file:///srv/tes/storage/o"}


@pytest.mark.parametrize("body, message", [
    ({"executors": [{**EXECUTOR, "image": "--privileged"}]}, "executors[0].image: must not begin with '-'"),
    ({"executors": [{**EXECUTOR, "image": "busybox --privileged"}]},
     "executors[0].image: must not contain whitespace or control characters"),
    ({"executors": [{**EXECUTOR, "image": "busybox\n"}]},
     "executors[0].image: must not contain whitespace or control characters"),
    ({**ECHO, "inputs": [{"path": "/data/a:b", "content": "x"}]}, "inputs[0].path: must not contain ':'"),
    ({**ECHO, "inputs": [{"path": "/data/a,ro", "content": "x"}]}, "inputs[0].path: must not contain ','"),
    ({**ECHO, "inputs": [{"path": "/data/../etc/x", "content": "x"}]},
     "inputs[0].path: must not have a '..' component"),
    ({**ECHO, "outputs": [{**OUTPUT, "path": "/out/x\n"}]}, "outputs[0].path: must not contain control characters"),
    ({**ECHO, "outputs": [{**OUTPUT, "path": "/out/x\x00y"}]}, "outputs[0].path: must not contain control characters"),
    ({**ECHO, "outputs": [{**OUTPUT, "path": "/out/*.txt", "path_prefix": "/out:/etc"}]},
     "outputs[0].path_prefix: must not contain ':'"),
    ({**ECHO, "outputs": [{**OUTPUT, "path": "/out/../*.txt", "path_prefix": "/out/.."}]},
     "outputs[0].path: must not have a '..' component"),
    ({**ECHO, "volumes": ["/vol:/etc"]}, "volumes[0]: must not contain ':'"),
    ({**ECHO, "volumes": ["/vol/.."]}, "volumes[0]: must not have a '..' component"),
    ({"executors": [{**EXECUTOR, "workdir": "/w,x"}]}, "executors[0].workdir: must not contain ','"),
    ({"executors": [{**EXECUTOR, "stdin": "/in/../../x"}]}, "executors[0].stdin: must not have a '..' component"),
    ({"executors": [{**EXECUTOR, "stdout": "/out/a:b"}]}, "executors[0].stdout: must not contain ':'"),
    ({"executors": [{**EXECUTOR, "stderr": "/out/a\nb"}]}, "executors[0].stderr: must not contain control characters"),
    ({"executors": [{**EXECUTOR, "env": {"": "x"}}]}, "executors[0].env: a name must not be empty"),
    ({"executors": [{**EXECUTOR, "env": {"A=B": "x"}}]}, "executors[0].env: 'A=B' must not contain '=' or NUL"),
    ({"executors": [{**EXECUTOR, "env": {"A\x00": "x"}}]}, "executors[0].env: 'A\\x00' must not contain '=' or NUL"),
    ({"executors": [{**EXECUTOR, "env": {"A": "x\x00"}}]}, "executors[0].env: the value of 'A' must not contain NUL"),
    ({"executors": [{**EXECUTOR, "command": ["echo", "a\x00b"]}]},
     "executors[0].command[1]: must not contain NUL"),
])
def test_unsafe_names_are_400_naming_the_field(client, backend, body, message):
    response = client.post("/ga4gh/tes/v1/tasks", json=body, headers=bearer("alice"))
    assert response.status_code == 400, response.text
    assert response.json()["message"] == message
    assert backend.submitted == []


@pytest.mark.parametrize("body", [
    {"executors": [{**EXECUTOR, "image": "reg.example:5000/lab/busybox:1@sha256:0123", "workdir": "/w/x.y",
                    "env": {"A_B": "x=y: z, w", "EMPTY": ""}, "stdout": "/out/..log", "stderr": "/out/a b"}]},
    {**ECHO, "inputs": [{"path": "/data/.hidden/in put.txt", "content": "x"}],
     "outputs": [{**OUTPUT, "path": "/out/[ab]*.txt", "path_prefix": "/out"}], "volumes": ["/vol/./x"]},
])
def test_ordinary_names_are_accepted(client, backend, body):
    response = client.post("/ga4gh/tes/v1/tasks", json=body, headers=bearer("alice"))
    assert response.status_code == 200, response.text
    assert len(backend.submitted) == 1
