"""Benchmark GET /tasks of the TES service (services/tes) with 10,000 tasks in its store, on SQLite and on PostgreSQL.

Fills a fresh store (a SQLite file; a database on a throwaway PostgreSQL server on a Unix socket) with N tasks
(three owners, tags, a tenth of them RUNNING), starts the service's app under uvicorn in its own process on loopback
(a backend that sends nothing: the API and store are what is measured), then times pages as a client would: the first
page and every following page to the end in each view, a state filter and a tag filter, each as the median of
repeated requests. Prints the figures and the service process's memory (VmRSS, VmHWM) before and after; with both
stores, the ratios of their medians from this one run. `make bench-tes-list`
runs it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SRC = REPO / "services" / "tes" / "src"
TOKEN = "bench-admin-token"
SERVER = """
import sys, uvicorn
sys.path.insert(0, {src!r})
from pulsar_network_tes.app import create_app
from pulsar_network_tes.config import load
from pulsar_network_tes.store import TaskStore

class SendsNothing:
    def problem(self, task, owner): return None
    def submit(self, task): pass
    def cancel(self, task): pass

settings = load({config!r})
uvicorn.run(create_app(settings, TaskStore(settings.store), SendsNothing()), host="127.0.0.1", port={port},
            log_level="warning", access_log=False)
"""


def fill(store_path: str, count: int) -> None:
    sys.path.insert(0, str(SRC))
    from pulsar_network_tes.models import State
    from pulsar_network_tes.store import TaskStore

    store = TaskStore(store_path)
    for i in range(count):
        task = {"name": f"task-{i:05d}", "tags": {"project": f"p{i % 7}", "batch": str(i // 1000)},
                "executors": [{"image": "registry.lab:5000/debian:trixie", "command": ["echo", str(i)]}]}
        document = store.create(("alice", "bob", "carol")[i % 3], task)
        if i % 10 == 0:
            store.update(document["id"], State.RUNNING)
    store.close()


def memory(pid: int) -> dict[str, int]:
    status = pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
    return {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS", "VmHWM"))}


def median_ms(client: httpx.Client, params: dict, repeat: int) -> tuple[float, dict]:
    times, body = [], {}
    for _repeat in range(repeat):
        start = time.perf_counter()
        response = client.get("/ga4gh/tes/v1/tasks", params=params)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        body = response.json()
    return statistics.median(times), body


def measure(store: str, tmp: str, args: argparse.Namespace) -> dict:
    """Fill the store, serve it, and time the requests: the rows, the page walk and the service's memory."""
    config = f"{tmp}/tes.yml"
    start = time.perf_counter()
    fill(store, args.tasks)
    figures: dict = {"fill_s": time.perf_counter() - start}
    pathlib.Path(config).write_text(yaml.safe_dump({
        "store": store, "auth": {"users": [
            {"name": "admin", "admin": True, "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]},
        "endpoints": [{"name": "site", "cores": 4, "mem": 8}]}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(src=str(SRC), config=config, port=port)])
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"})
        for _attempt in range(100):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        figures["before"] = memory(server.pid)
        rows = []
        for view in ("MINIMAL", "BASIC", "FULL"):
            rows.append((f"first page of 256, {view}", *median_ms(client, {"view": view}, args.repeat)))
        rows.append(("first page of 2047, FULL", *median_ms(client, {"view": "FULL", "page_size": 2047}, args.repeat)))
        rows.append(("state=RUNNING, first page, BASIC", *median_ms(client, {"state": "RUNNING", "view": "BASIC"}, args.repeat)))
        rows.append(("tag project=p3, first page, BASIC",
                     *median_ms(client, {"tag_key": "project", "tag_value": "p3", "view": "BASIC"}, args.repeat)))
        token, pages, walked, start = None, 0, 0, time.perf_counter()
        while True:
            body = client.get("/ga4gh/tes/v1/tasks",
                              params={"view": "BASIC", **({"page_token": token} if token else {})}).json()
            pages, walked, token = pages + 1, walked + len(body["tasks"]), body.get("next_page_token")
            if not token:
                break
        figures.update(rows=rows, pages=pages, walked=walked, walk_s=time.perf_counter() - start,
                       after=memory(server.pid))
    finally:
        server.terminate()
        server.wait()
    return figures


def report(kind: str, figures: dict, tasks: int) -> None:
    print(f"== {kind}: store filled with {tasks} tasks in {figures['fill_s']:.1f} s")
    print(f"{'request':40} {'median ms':>10} {'tasks':>6}")
    for name, ms, body in figures["rows"]:
        print(f"{name:40} {ms:10.1f} {len(body['tasks']):6d}")
    pages, walk_s = figures["pages"], figures["walk_s"]
    print(f"every page of 256 (BASIC), {pages} pages, {figures['walked']} tasks: {walk_s:.2f} s "
          f"({walk_s / pages * 1000:.1f} ms a page)")
    before, after = figures["before"], figures["after"]
    print(f"service memory: VmRSS {before['VmRSS'] / 1024:.1f} MB before, {after['VmRSS'] / 1024:.1f} MB after; "
          f"peak (VmHWM) {after['VmHWM'] / 1024:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql",
                        help="sqlite, postgresql (a throwaway server, services/tes/tests/pg_server.py), or both")
    args = parser.parse_args()
    results = {}
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if kind == "sqlite":
                results[kind] = measure(f"{tmp}/tasks.sqlite", tmp, args)
            else:
                sys.path.insert(0, str(REPO / "services" / "tes" / "tests"))
                from pg_server import Server

                server = Server()
                try:
                    results[kind] = measure(server.new_database(), tmp, args)
                finally:
                    server.close()
        report(kind, results[kind], args.tasks)
    if {"sqlite", "postgresql"} <= results.keys():
        print("ratio PostgreSQL / SQLite, same run: " + "; ".join(
            f"{pg[0]} {pg[1] / lite[1]:.2f}" for lite, pg in zip(results["sqlite"]["rows"], results["postgresql"]["rows"]))
            + f"; every page {results['postgresql']['walk_s'] / results['sqlite']['walk_s']:.2f}")
    print(json.dumps({kind: {"tasks": args.tasks, "pages": r["pages"], "walked": r["walked"]} for kind, r in results.items()}))
    return 0 if all(r["walked"] == args.tasks for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
