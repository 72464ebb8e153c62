"""HTTP servers on loopback addresses for the fetch guard's tests (test_fetch.py, test_fetch_deadlines.py): each in a
thread, with routes that answer, redirect or cut a body short."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

ALLOWED = "127.0.0.2"  # a loopback address the tests' settings allow, standing for a public server
Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """An HTTP/1.1 server in a thread; counts the connections it takes and records the requests."""

    def __init__(self, host: str, routes: dict[str, Route], port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.connections, self.requests, self.hosts = 0, [], []
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def _serve(self) -> None:
                outer.requests.append((self.command, self.path, self._body()))
                outer.hosts.append(self.headers.get("Host"))
                routes.get(self.path, send(b"not found", 404))(self)

            do_GET = do_PUT = _serve

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding") != "chunked":
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b""
                while size := int(self.rfile.readline().strip(), 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                self.rfile.readline()
                return body

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(body: bytes, status: int = 200, **headers: str) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)
    return route


def redirect(location: str, status: int = 302) -> Route:
    return send(b"", status, Location=location)


def cut_short(header: tuple[str, str], body: bytes) -> Route:
    """A 200 whose body ends before the length HEADER announces, and the connection closed."""
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header(*header)
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True
    return route


def same_port_pair(server, routes_a: dict[str, Route], routes_b: dict[str, Route]) -> tuple[Server, Server]:
    """Server A on the allowed address and server B on 127.0.0.1, on the same port (a name can point to either)."""
    for _attempt in range(20):
        first = server(routes_a)
        try:
            return first, server(routes_b, host="127.0.0.1", port=first.port)
        except OSError:
            continue
    raise AssertionError("no port free on both addresses")
