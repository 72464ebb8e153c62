"""Inputs fetched and outputs uploaded over HTTP only from and to addresses the operator allows (issue #26): against
real HTTP servers on loopback addresses. Nothing here sends traffic beyond loopback: the cases naming other
addresses make any connection fail the test."""

from __future__ import annotations

import io
import shutil
import socket
import ssl
import subprocess
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from http_servers import ALLOWED, Route, Server, cut_short, redirect, same_port_pair, send
from pulsar_network_tes.config import ConfigError, parse
from pulsar_network_tes.fetch import Fetcher, FetchError, Policy, redact
from pulsar_network_tes.pulsar_backend import PulsarBackend
from pulsar_network_tes.staging import Staging, StagingError
from pulsar_network_tes.store import TaskStore


@pytest.fixture
def server():
    made: list[Server] = []

    def make(routes: dict[str, Route], host: str = ALLOWED, port: int = 0, tls: ssl.SSLContext | None = None) -> Server:
        made.append(Server(host, routes, port, tls))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def staging(tmp_path):
    """The service's staging, built from its settings file's backend section as the service builds it."""
    stores: list[TaskStore] = []

    def make(**backend: Any) -> Staging:
        settings = parse({"store": str(tmp_path / "tasks.sqlite"),
                          "backend": {"work_dir": str(tmp_path / "jobs"), **backend}})
        stores.append(TaskStore(settings.store))
        return PulsarBackend(settings, stores[-1], b"k" * 32).staging

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def no_connection(monkeypatch):
    """Any connection made fails the test: the refusal must come before one."""
    def refuse(address, *args, **kwargs):
        raise AssertionError(f"a connection was made to {address}")
    monkeypatch.setattr(socket, "create_connection", refuse)


def fetch(stage: Staging, url: str, owner: str = "alice", task_id: str = "t1") -> bytes:
    task = {"id": task_id, "inputs": [{"path": "/in/x", "url": url, "type": "FILE"}]}
    [path] = stage.gather_inputs(task, owner)
    with open(path, "rb") as handle:
        return handle.read()


def refused(stage: Staging, url: str, reason: str) -> str:
    with pytest.raises(StagingError) as caught:
        fetch(stage, url)
    assert str(caught.value) == f"inputs[0].url: cannot be fetched ({reason})"
    return str(caught.value)


# --- the control: an allowed server is fetched -------------------------------------------------------------------
def test_an_allowed_server_is_fetched_and_its_bytes_land_in_the_input(server, staging):
    web = server({"/data.txt": send(b"hello from an allowed server\n")})
    assert fetch(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/data.txt") == b"hello from an allowed server\n"


def test_a_redirect_within_the_allowed_addresses_is_followed(server, staging):
    web = server({"/old": redirect("/new"), "/new": send(b"moved")})
    assert fetch(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/old") == b"moved"


def test_https_connects_to_the_checked_address_and_checks_the_urls_name(server, staging, monkeypatch, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl makes the test certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem", "-days", "1", "-subj", "/CN=data.test",
                    "-addext", "subjectAltName=DNS:data.test"], check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    web = server({"/x": send(b"over TLS")}, tls=tls)
    real_resolve, real_context = socket.getaddrinfo, ssl.create_default_context
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real_resolve(
        ALLOWED if host in ("data.test", "other.test") else host, *args, **kwargs))
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: real_context(cafile=str(tmp_path / "cert.pem")))
    stage = staging(fetch_allow=[f"{ALLOWED}/32"])
    assert fetch(stage, f"https://data.test:{web.port}/x") == b"over TLS"
    assert web.hosts == [f"data.test:{web.port}"]
    refused(stage, f"https://other.test:{web.port}/x", "TLS failed")  # the same address, a name its certificate lacks
    assert len(web.requests) == 1


# --- refused under the default settings --------------------------------------------------------------------------
def test_loopback_is_refused_and_not_connected_to(server, staging):
    web = server({"/": send(b"internal")}, host="127.0.0.1")
    refused(staging(), f"{web.url}/", "address not allowed")
    assert web.connections == 0


@pytest.mark.usefixtures("no_connection")
def test_an_ipv4_mapped_ipv6_loopback_address_is_refused(staging):
    refused(staging(), "http://[::ffff:127.0.0.1]:8080/", "address not allowed")


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
                                 "http://192.168.1.1/", "http://[fe80::1]/", "http://100.64.0.1/"])
@pytest.mark.usefixtures("no_connection")
def test_link_local_and_private_addresses_are_refused_before_any_connection(staging, url):
    started = time.monotonic()
    refused(staging(), url, "address not allowed")
    assert time.monotonic() - started < 1


def test_a_name_that_resolves_to_loopback_is_refused(server, staging):
    web = server({"/": send(b"internal")}, host="127.0.0.1")
    refused(staging(), f"http://localhost:{web.port}/", "address not allowed")
    assert web.connections == 0


def test_a_redirect_from_an_allowed_server_to_loopback_is_refused(server, staging):
    inside = server({"/": send(b"internal")}, host="127.0.0.1")
    web = server({"/": redirect(f"http://127.0.0.1:{inside.port}/")})
    refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/", "address not allowed")
    assert inside.connections == 0


@pytest.mark.parametrize("scheme", ["ftp", "https"])
def test_a_redirect_to_another_scheme_is_refused(server, staging, scheme):
    other = server({"/": send(b"elsewhere")})
    web = server({"/": redirect(f"{scheme}://{ALLOWED}:{other.port}/")})
    refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/", "redirect to another scheme")
    assert other.connections == 0


def test_too_many_redirects_are_refused(server, staging):
    web = server({f"/{i}": redirect(f"/{i + 1}") for i in range(10)})
    refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/0", "too many redirects")
    assert len(web.requests) == 6


def test_a_name_resolving_to_an_allowed_and_a_loopback_address_is_refused(server, staging, monkeypatch):
    web, inside = same_port_pair(server, {"/": send(b"public")}, {"/": send(b"internal")})
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "mixed.test":
            return real(ALLOWED, port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"http://mixed.test:{web.port}/", "address not allowed")
    assert (web.connections, inside.connections) == (0, 0)


def test_dns_rebinding_connects_to_the_checked_address(server, staging, monkeypatch):
    """The name answers an allowed address when checked and loopback afterwards: the connection goes to the address
    that was checked, never to a second answer."""
    web, inside = same_port_pair(server, {"/": send(b"public")}, {"/": send(b"internal")})
    real, asked = socket.getaddrinfo, []

    def resolve(host, port, *args, **kwargs):
        if host == "rebind.test":
            asked.append(host)
            return real(ALLOWED if len(asked) == 1 else "127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert fetch(staging(fetch_allow=[f"{ALLOWED}/32"]), f"http://rebind.test:{web.port}/") == b"public"
    assert inside.connections == 0
    assert web.requests[0][0:2] == ("GET", "/")


def test_fetch_deny_refuses_an_address_fetch_allow_lets_in(server, staging):
    web = server({"/": send(b"x")})
    refused(staging(fetch_allow=["127.0.0.0/8"], fetch_deny=[f"{ALLOWED}/32"]), f"{web.url}/", "address not allowed")
    assert web.connections == 0


@pytest.mark.parametrize("address", [
    "127.0.0.1", "::1", "169.254.169.254", "fe80::1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "fc00::1", "fd12::1",
    "0.0.0.0", "100.64.0.1", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255", "::", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254"])
def test_addresses_refused_by_default(address):
    assert not Fetcher(Policy()).allowed(address)


def test_addresses_allowed_by_default_and_by_the_settings():
    assert Fetcher(Policy()).allowed("93.184.215.14") and Fetcher(Policy()).allowed("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    opened = Fetcher(Policy(allow=("10.1.0.0/16",), deny=("93.184.215.0/24",)))
    assert opened.allowed("10.1.2.3") and opened.allowed("::ffff:10.1.2.3")
    assert not opened.allowed("10.2.0.1") and not opened.allowed("93.184.215.14")


# --- what a failure says ---------------------------------------------------------------------------------------
def test_an_error_names_the_input_and_the_status_not_the_reply_or_the_urls_credentials(server, staging):
    web = server({"/x?X-Amz-Signature=SIG-SECRET": send(b"SECRET-BODY: the server's own words", 404)})
    url = f"http://user:pa55word@{ALLOWED}:{web.port}/x?X-Amz-Signature=SIG-SECRET"
    message = refused(staging(fetch_allow=[f"{ALLOWED}/32"]), url, "HTTP 404")
    assert "SECRET" not in message and "pa55word" not in message and "user" not in message


def test_a_connection_failure_is_not_described(staging):
    probe = socket.socket()
    probe.bind((ALLOWED, 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    message = refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"http://{ALLOWED}:{port}/", "connection failed")
    assert "refused" not in message.lower() and "errno" not in message.lower()


def test_redact_drops_user_info_query_and_fragment():
    assert redact("https://user:pw@store.example:8443/a/b.txt?X-Amz-Signature=abc#part") == (
        "https://store.example:8443/a/b.txt")
    assert redact("file:///srv/tes/storage/alice/x") == "file:///srv/tes/storage/alice/x"
    assert redact("http://[::1]:80/?q") == "http://[::1]:80/"


# --- short reads, the deadline, the per-user limit -----------------------------------------------------------
@pytest.mark.parametrize("route", [
    cut_short(("Content-Length", "100"), b"0123456789"),
    cut_short(("Transfer-Encoding", "chunked"), b"a\r\n0123456789\r\n20\r\nonly part of it"),
], ids=["cut_short", "chunked_cut_short"])
def test_a_body_shorter_than_announced_fails_the_input(server, staging, route):
    web = server({"/": route})
    refused(staging(fetch_allow=[f"{ALLOWED}/32"]), f"{web.url}/", "body shorter than its Content-Length")


def test_an_input_larger_than_the_limit_fails(server, staging):
    web = server({"/": send(b"x" * 2000)})
    refused(staging(fetch_allow=[f"{ALLOWED}/32"], max_input_bytes=1000), f"{web.url}/",
            "larger than the limit of 1000 bytes")


def test_the_deadline_covers_the_whole_download_not_each_read(server, staging):
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _byte in range(60):  # a byte every 50 ms, for 3 s at most
            if web.stop.wait(0.05):
                return
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return
        handler.close_connection = True
    web = server({"/": trickle})
    started = time.monotonic()
    refused(staging(fetch_allow=[f"{ALLOWED}/32"], fetch_timeout=1), f"{web.url}/", "timed out")
    assert time.monotonic() - started < 2


def test_a_users_third_download_waits_while_another_users_go_on(server, staging):
    release = threading.Event()
    arrived = {name: threading.Event() for name in ("a1", "a2", "a3", "b1")}

    def held(name: str) -> Route:
        def route(handler: BaseHTTPRequestHandler) -> None:
            arrived[name].set()
            if name != "b1":
                release.wait(5)
            send(name.encode())(handler)
        return route
    web = server({f"/{name}": held(name) for name in arrived})
    stage = staging(fetch_allow=[f"{ALLOWED}/32"], fetch_per_user=2)
    results: dict[str, bytes] = {}

    def run(name: str, owner: str) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.update({name: fetch(stage, f"{web.url}/{name}", owner, name)}))
        thread.start()
        return thread
    try:
        alices = [run("a1", "alice"), run("a2", "alice")]
        assert arrived["a1"].wait(2) and arrived["a2"].wait(2)
        alices.append(run("a3", "alice"))
        bob = run("b1", "bob")
        bob.join(2)
        assert results.get("b1") == b"b1", "bob's download waited for alice's"
        assert not arrived["a3"].wait(0.3), "alice's third download went on while her two slots were taken"
    finally:
        release.set()
    for thread in alices:
        thread.join(5)
    assert results == {"a1": b"a1", "a2": b"a2", "a3": b"a3", "b1": b"b1"}


# --- outputs: the https PUT goes through the same guard ------------------------------------------------------
def deliver(stage: Staging, url: str, owner: str = "alice") -> None:
    """An output delivered as the backend delivers it: from the runner's tar, by its manifest."""
    tar_path = f"{stage.work_dir}/outputs.tar"
    with tarfile.open(tar_path, "w") as archive:
        info = tarfile.TarInfo("o0")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"result"))
    task = {"id": "t1", "outputs": [{"path": "/out/x", "url": url, "type": "FILE"}]}
    stage.deliver_outputs(task, owner, tar_path, [{"index": 0, "relative": "", "size_bytes": 6}])


@pytest.mark.usefixtures("no_connection")
def test_an_upload_to_loopback_is_refused_before_any_connection(staging, tmp_path):
    stage = staging()
    (tmp_path / "jobs").mkdir()
    with pytest.raises(StagingError) as caught:
        deliver(stage, "https://user:secret@127.0.0.1:8443/upload?sig=SECRET")
    assert str(caught.value) == "outputs[0].url: cannot be uploaded (address not allowed)"


def test_an_upload_goes_to_an_allowed_server_and_follows_no_redirect(server):
    target = server({"/kept": send(b"", 201)})
    web = server({"/put": send(b"", 201), "/moved": redirect(f"{target.url}/kept", 307)})
    fetcher = Fetcher(Policy(allow=(f"{ALLOWED}/32",)))
    fetcher.upload(f"{web.url}/put", io.BytesIO(b"result"))
    assert web.requests == [("PUT", "/put", b"result")]
    with pytest.raises(FetchError) as caught:
        fetcher.upload(f"{web.url}/moved", io.BytesIO(b"result"))
    assert caught.value.reason == "HTTP 307"
    assert target.requests == []


@pytest.mark.parametrize("backend, message", [
    ({"fetch_allow": ["10.0.0.0/33"]}, "backend.fetch_allow: '10.0.0.0/33' is not a network (CIDR) such as 192.0.2.0/24"),
    ({"fetch_deny": [10]}, "backend.fetch_deny: 10 is not a network (CIDR) such as 192.0.2.0/24"),
    ({"fetch_timeout": 0}, "backend.fetch_timeout: must be more than 0"),
    ({"fetch_per_user": 0}, "backend.fetch_per_user: must be more than 0")])
def test_the_fetch_settings_are_checked(tmp_path, backend, message):
    with pytest.raises(ConfigError) as caught:
        parse({"store": str(tmp_path / "tasks.sqlite"), "backend": backend})
    assert str(caught.value) == message


def test_the_fetch_settings_reach_the_fetcher(staging):
    stage = staging(fetch_allow=["10.1.2.3/16"], fetch_deny=["10.1.9.0/24"], fetch_timeout=5, fetch_per_user=3)
    assert stage.fetcher.policy == Policy(allow=("10.1.0.0/16",), deny=("10.1.9.0/24",), timeout=5, per_user=3)
