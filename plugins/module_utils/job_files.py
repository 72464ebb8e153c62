# -*- coding: utf-8 -*-
# Copyright: ESG Pulsar Network engineers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Galaxy's job files API in miniature: the HTTP server a Pulsar job downloads its inputs from and uploads its
outputs to (Pulsar's remote_transfer staging action), serving one job directory on the host that submits the job.

Standard library only, so the benchmark scripts can load it inside Pulsar's virtualenv.
"""

from __future__ import annotations

import email.parser
import email.policy
import http.server
import os
import threading
import urllib.parse


class _FilesHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PulsarJobFiles/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def _path(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        requested = os.path.realpath(query.get("path", [""])[0])
        root = self.server.root
        if not requested.startswith(root + os.sep):
            self._reply(403, b"path outside the job directory\n")
            return None
        return requested

    def _reply(self, code, body=b"", length=None):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        path = self._path()
        if path is None:
            return
        if not os.path.isfile(path):
            self._reply(404)
            return
        self._reply(200, length=os.path.getsize(path))

    def do_GET(self):  # noqa: N802
        path = self._path()
        if path is None:
            return
        if not os.path.isfile(path):
            self._reply(404, b"no such file\n")
            return
        with open(path, "rb") as handle:
            data = handle.read()
        self.server.record("GET", path, len(data))
        self._reply(200, data)

    def do_POST(self):  # noqa: N802
        path = self._path()
        if path is None:
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        parts = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if not parts:
            self._reply(400, b"expected a multipart form with a 'file' field\n")
            return
        data = parts[0].get_payload(decode=True) or b""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        self.server.record("POST", path, len(data))
        self._reply(200, b"{}")


class JobFilesServer:
    """Galaxy's job files API for one directory: GET/HEAD ?path= downloads, POST ?path= (multipart 'file') uploads."""

    def __init__(self, root: str, bind_address: str = "127.0.0.1", port: int = 0, url_host: str | None = None):
        self.root = os.path.realpath(root)
        self._server = http.server.ThreadingHTTPServer((bind_address, port), _FilesHandler)
        self._server.daemon_threads = True
        self._server.root = self.root
        self._server.record = self._record
        self.transfers = []
        self._lock = threading.Lock()
        host = url_host or bind_address
        self.url = f"http://{host}:{self._server.server_address[1]}/api/jobs/files"
        self._thread = threading.Thread(target=self._server.serve_forever, name="job-files", daemon=True)

    def _record(self, method, path, size):
        with self._lock:
            self.transfers.append({"method": method, "path": os.path.relpath(path, self.root), "bytes": size})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
