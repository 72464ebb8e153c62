"""The TES service tried as an attacker would, on the lab's real network (security issue #26): executors that plant
links for the runner on the execute node, executors that look for the node's loopback services, inputs that point
the TES host at internal addresses, one user reaching for another's files, and bodies past the cap.

The ground truth is the hosts themselves: the planted files read on the nodes with cat, the users' storage read on
tes-broker, and the unit's firewall tried with systemd's own properties."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import tes
from conftest import URL, health, lab, raw, task, wait

RUN = uuid.uuid4().hex[:8]
SHARED = "/srv/pulsar"  # mounted on both execute nodes: the runner's job directories are beneath it
CANARY, SECRET = f"{SHARED}/canary-{RUN}.txt", f"{SHARED}/secret-{RUN}.txt"
HIDDEN = f"hidden-{RUN[::-1]}"  # the secret's text: not in any task's own fields (its path is)
STORAGE = "/srv/tes/storage"
LOOPBACK_PORT = 18999


@pytest.fixture(scope="module")
def host_files():
    """A file the Pulsar user could write (canary) and one it could read (secret), outside every job's directory."""
    lab("tes-ep-a", "sh", "-c", f"echo canary > {CANARY} && echo {HIDDEN} > {SECRET}"
                                f" && chown pulsar: {CANARY} {SECRET} && chmod 0600 {CANARY} {SECRET}")
    yield
    lab("tes-ep-a", "rm", "-f", CANARY, SECRET)


def plant(link: str, target: str) -> dict:
    """An executor that makes a link in a mounted directory for the runner to meet on the host. A link that replaces
    a directory on the way to a path needs that path's parent bound too (volumes=["/out"]): a mount point itself
    cannot be replaced from inside."""
    return {"command": ["sh", "-c", f"mkdir -p $(dirname {link}) && ln -s {target} {link}"]}


LINK_TASKS = {
    "stdout": task(plant("/out/o", CANARY), {"command": ["echo", "overwritten"], "stdout": "/out/o"}),
    "stderr through a linked directory": task(
        plant("/out/d", SHARED), {"command": ["sh", "-c", "echo overwritten >&2"], "stderr": f"/out/d/canary-{RUN}.txt"},
        volumes=["/out"]),
    "stdin": task(plant("/in/s", SECRET), {"command": ["cat"], "stdin": "/in/s"}),
    "output file": task(plant("/out/r.txt", SECRET),
                        outputs=[tes.Output(path="/out/r.txt", url=f"file://{STORAGE}/alice/links-{RUN}/r.txt")]),
    "output through a linked directory": task(
        plant("/out/p", SHARED), volumes=["/out"],
        outputs=[tes.Output(path=f"/out/p/secret-{RUN}.txt", url=f"file://{STORAGE}/alice/links-{RUN}/p.txt")]),
    "directory output that is a link": task(
        plant("/out/tree", SHARED), volumes=["/out"],
        outputs=[tes.Output(path="/out/tree", type="DIRECTORY", url=f"file://{STORAGE}/alice/links-{RUN}/tree")]),
    "links inside a directory output": task(
        {"command": ["sh", "-c", f"mkdir -p /out/t && echo ok > /out/t/ok && ln -s {SECRET} /out/t/s"
                                 f" && ln -s {SHARED} /out/t/d"]},
        outputs=[tes.Output(path="/out/t", type="DIRECTORY", url=f"file://{STORAGE}/alice/links-{RUN}/t")]),
    "wildcard matching a link": task(
        plant("/out/w/x.txt", SECRET),
        outputs=[tes.Output(path="/out/w/*.txt", path_prefix="/out/w", url=f"file://{STORAGE}/alice/links-{RUN}/w")]),
}


def test_links_an_executor_plants_never_reach_the_node(alice, host_files):
    """Each link points the runner, which works on the node as the Pulsar user, at a node file: the canary stays as
    it was, and nothing of the secret comes back in any log or delivered file."""
    ids = {name: alice.create_task(t) for name, t in LINK_TASKS.items()}
    done = {name: wait(alice, task_id) for name, task_id in ids.items()}
    assert lab("tes-ep-a", "cat", CANARY) == "canary\n", "the runner wrote through a planted link"
    for name, finished in done.items():
        shown = json.dumps(raw("get", f"/tasks/{finished.id}", params={"view": "FULL"}).json())
        assert HIDDEN not in shown, (name, shown)
        print(f"{name}: {finished.state} {finished.logs[0].system_logs if finished.logs else ''}")
    delivered = lab("tes-broker", "sh", "-c", f"grep -r {HIDDEN} {STORAGE}/alice/links-{RUN} || true")
    assert delivered == "", delivered
    # What the runner may deliver, it does: the plain file beside the links.
    assert done["links inside a directory output"].state == "COMPLETE", done["links inside a directory output"].logs
    assert lab("tes-broker", "ls", f"{STORAGE}/alice/links-{RUN}/t") == "ok\n"


@pytest.fixture(scope="module")
def loopback_service():
    """A web server on each execute node's loopback, as the node's own services are (HTCondor's, Pulsar's)."""
    for node in ("tes-ep-a", "tes-ep-b"):
        lab(node, "systemd-run", f"--unit=lab-loopback-{RUN}", "python3", "-m", "http.server", str(LOOPBACK_PORT),
            "--bind", "127.0.0.1")
    for node in ("tes-ep-a", "tes-ep-b"):  # the control: the node itself reaches it
        lab(node, "sh", "-c", f"for i in 1 2 3 4 5; do python3 -c \"import urllib.request;"
                              f"urllib.request.urlopen('http://127.0.0.1:{LOOPBACK_PORT}/', timeout=2)\" && exit 0;"
                              " sleep 1; done; exit 1")
    yield
    for node in ("tes-ep-a", "tes-ep-b"):
        lab(node, "systemctl", "stop", f"lab-loopback-{RUN}", check=False)


def test_executors_cannot_reach_the_nodes_loopback(alice, loopback_service):
    probe = ("for target in 127.0.0.1 $(ip route | awk '/default/ {print $3}') host.containers.internal; do"
             f" wget -q -T 3 -O /dev/null http://$target:{LOOPBACK_PORT}/ && echo reached $target; done; echo probed")
    ids = [alice.create_task(task({"command": ["sh", "-c", probe]}, name=f"netprobe-{RUN}")) for _node in range(4)]
    done = [wait(alice, i) for i in ids]
    for finished in done:
        assert finished.state == "COMPLETE", finished.logs
        assert finished.logs[0].logs[0].stdout.endswith("probed\n"), finished.logs[0].logs[0].stdout
        assert "reached" not in finished.logs[0].logs[0].stdout, finished.logs[0].logs[0].stdout


SSRF_INPUTS = {
    "loopback": "https://127.0.0.1/healthz",
    "a name that resolves to loopback": "https://localhost/healthz",
    "the service's own port": "http://127.0.0.1:8081/healthz",
    "a private address (an execute node's collector)": "http://tes-ep-a:9618/",
    "an allowed server's redirect to loopback": "https://tes-broker:8443/to-loopback",
}


def test_inputs_from_internal_addresses_are_refused_and_say_nothing_of_them(alice):
    ids = {name: alice.create_task(task({"command": ["cat", "/in/x"]}, name=f"ssrf-{RUN}",
                                        inputs=[tes.Input(path="/in/x", url=url)]))
           for name, url in SSRF_INPUTS.items()}
    for name, task_id in ids.items():
        finished = wait(alice, task_id, timeout=120)
        shown = json.dumps(raw("get", f"/tasks/{task_id}", params={"view": "FULL"}).json())
        assert finished.state == "SYSTEM_ERROR", (name, finished.state)
        assert "inputs[0].url" in shown and "not allowed" in shown, (name, shown)
        assert "healthy" not in shown and "endpoints" not in shown, (name, shown)  # nothing of /healthz came back
        assert not finished.logs[0].logs, (name, "no executor ran")


def test_the_units_firewall_refuses_a_private_address(alice):
    """The unit's IPAddressDeny, tried with the unit's own properties: a lab node's HTCondor collector is refused
    under them and reached without them."""
    shown = lab("tes-broker", "systemctl", "show", "pulsar-network-tes", "-p", "IPAddressDeny", "-p", "IPAddressAllow",
                "-p", "MemoryMax")
    properties = dict(line.split("=", 1) for line in shown.splitlines())
    assert "10.0.0.0/8" in properties["IPAddressDeny"] and properties["MemoryMax"] != "infinity", properties
    connect = "import socket; socket.create_connection(('tes-ep-a', 9618), timeout=5).close(); print('connected')"
    assert lab("tes-broker", "python3", "-c", connect).strip() == "connected"
    walled = lab("tes-broker", "systemd-run", "--wait", "--pipe", "--quiet",
                 f"--property=IPAddressDeny={properties['IPAddressDeny']}",
                 f"--property=IPAddressAllow={properties['IPAddressAllow']}", "python3", "-c", connect, check=False)
    assert "connected" not in walled, walled


def test_a_user_cannot_name_another_users_files(alice):
    bobs = f"{STORAGE}/bob/private-{RUN}.txt"
    lab("tes-broker", "sh", "-c", f"echo 'bob only' > {bobs} && chown tes: {bobs}")
    cases = [
        ("inputs[0].url", task({"command": ["cat", "/in/x"]}, inputs=[tes.Input(path="/in/x", url=f"file://{bobs}")])),
        ("outputs[0].url", task({"command": ["sh", "-c", "echo alice > /out/x"]},
                                outputs=[tes.Output(path="/out/x", url=f"file://{bobs}")])),
        ("inputs[0].url", task({"command": ["true"]},
                               inputs=[tes.Input(path="/in/x", url=f"file://{STORAGE}/alice/../bob/private-{RUN}.txt")])),
    ]
    for field, refused in cases:
        with pytest.raises(requests.HTTPError) as answer:
            alice.create_task(refused)
        assert answer.value.response.status_code == 400
        assert answer.value.response.json()["message"].startswith(f"{field}: "), answer.value.response.json()
    assert lab("tes-broker", "cat", bobs) == "bob only\n"


def test_a_body_past_the_cap_is_413_from_nginx_and_the_service():
    big = json.dumps({"executors": [{"image": "x", "command": ["true"]}],
                      "inputs": [{"path": "/in/x", "content": "y" * (2 * 1024 * 1024)}]})
    answer = raw("post", "/tasks", data=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["message"] == "body: larger than 1048576 bytes", answer.text


def test_health_is_served_to_the_host_only():
    assert requests.get(f"{URL}/healthz", timeout=10).status_code == 403  # through nginx, from the controller
    assert health()["status"] == "ok"  # on the host's loopback
