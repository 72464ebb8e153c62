"""A task's http(s) input fetched, and an output uploaded with PUT, only from and to addresses the operator allows.

A task names any URL it likes, and the service fetches it from its own host: unguarded, a URL could reach what only
that host reaches (its loopback services, a cloud's metadata service at 169.254.169.254, the site's private network)
and the answer would go back to the task's owner (issue #26). So the URL's name is resolved once, every address it
resolves to is checked, and the connection goes to a checked address, never to a second answer of the name (DNS
rebinding gains nothing); TLS still checks the certificate against the URL's name, which the Host header also carries.
Redirects are followed here, at most 5, each one resolved and checked again, and never to another scheme; an upload
follows none.

Refused unless `backend.fetch_allow` names them: loopback, link-local, private (RFC 1918, fc00::/7), 0.0.0.0/8, the
shared address space 100.64.0.0/10, multicast, reserved and unspecified addresses, 6to4 (2002::/16 and its relays'
192.88.99.0/24, which reach an IPv4 address the checks do not see), and the IPv4-mapped IPv6 address of any of these.
`backend.fetch_deny`'s networks are refused always, whatever fetch_allow says.

A download or an upload has a deadline for the whole transfer (`backend.fetch_timeout`), connecting to each address
included, each read one of 60 s, and a user has at most `backend.fetch_per_user` of them at once: the next waits for one
to end; other users' go on. A worker that lays a task out takes the owner's slot without waiting (reserve()), and the
downloads it makes meanwhile use that slot.
A failure's reason is short and carries nothing the remote sent but its status code, and no low-level error: the detail
is for the service's log, beside the URL without its credentials (redact()).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import IO, Any, Iterator

READ_TIMEOUT = 60.0
MAX_REDIRECTS = 5
CHUNK = 1 << 20
REDIRECTS = (301, 302, 303, 307, 308)
HEADERS = {"User-Agent": "pulsar-network-tes"}
# Beside ipaddress's is_private & co., whose ranges differ between Python versions.
DENIED = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "192.88.99.0/24", "::1/128", "fe80::/10", "fc00::/7", "2002::/16"))

Answer = tuple[str, int]  # an address the URL's name resolved to, and the port


class FetchError(Exception):
    """A URL that cannot be fetched or uploaded to: reason may be shown to the task's owner, detail is for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail or reason


@dataclass(frozen=True)
class Policy:
    allow: tuple[str, ...] = ()  # CIDRs let in though the defaults refuse them
    deny: tuple[str, ...] = ()  # CIDRs refused always
    timeout: float = 600.0  # seconds for a whole download
    per_user: int = 2  # downloads a user has at once


def redact(url: str) -> str:
    """The URL without what may be a credential: its user info, query (a presigned URL's signature) and fragment."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class Fetcher:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._allow = tuple(ipaddress.ip_network(n, strict=False) for n in policy.allow)
        self._deny = tuple(ipaddress.ip_network(n, strict=False) for n in policy.deny)
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        self._held = threading.local()  # the owners whose slot this thread has reserved

    def allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self._deny):
            return False
        if any(ip in net for net in self._allow):
            return True
        return not (any(ip in net for net in DENIED) or ip.is_private or ip.is_loopback or ip.is_link_local
                    or ip.is_multicast or ip.is_reserved or ip.is_unspecified
                    or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local))

    def download(self, url: str, out: IO[bytes], owner: str, max_bytes: int) -> int:
        """GET the URL into out, following redirects; the bytes written. Waits for one of the owner's slots."""
        with self._slot(owner):
            deadline = time.monotonic() + self.policy.timeout
            for _hop in range(MAX_REDIRECTS + 1):
                conn, path = self._connection(url, deadline)
                with _watched(conn, deadline):
                    response = _exchange(conn, "GET", path, None)
                    location = response.getheader("Location") if response.status in REDIRECTS else None
                    if location is None:
                        if not 200 <= response.status < 300:
                            raise FetchError(f"HTTP {response.status}")
                        return _copy(conn, response, out, max_bytes)
                url = _follow(url, location)
            raise FetchError("too many redirects")

    def upload(self, url: str, stream: IO[bytes], owner: str = "") -> None:
        """PUT the stream's bytes to the URL; a redirect is a failure. Waits for one of the owner's slots."""
        with self._slot(owner):
            deadline = time.monotonic() + self.policy.timeout
            conn, path = self._connection(url, deadline)
            with _watched(conn, deadline):
                response = _exchange(conn, "PUT", path, _chunks(stream))
                if not 200 <= response.status < 300:
                    raise FetchError(f"HTTP {response.status}")

    @contextlib.contextmanager
    def reserve(self, owner: str, needed: bool = True) -> Iterator[bool]:
        """One of the owner's slots, taken now if one is free, never waited for: yields whether it was (always true
        when not needed). The downloads this thread makes meanwhile use it instead of taking another."""
        if not needed or owner in self._holding():
            yield True
            return
        slot = self._owner_slot(owner)
        if not slot.acquire(blocking=False):
            yield False
            return
        self._holding().add(owner)
        try:
            yield True
        finally:
            self._holding().discard(owner)
            slot.release()

    def busy(self, owner: str) -> bool:
        """Whether all the owner's slots are taken now (a download would wait)."""
        slot = self._owner_slot(owner)
        if not slot.acquire(blocking=False):
            return True
        slot.release()
        return False

    @contextlib.contextmanager
    def _slot(self, owner: str) -> Iterator[None]:
        if owner in self._holding():  # reserved by this thread
            yield
            return
        with self._owner_slot(owner):
            yield

    def _holding(self) -> set[str]:
        if not hasattr(self._held, "owners"):
            self._held.owners = set()
        return self._held.owners

    def _owner_slot(self, owner: str) -> threading.BoundedSemaphore:
        with self._slots_lock:
            return self._slots.setdefault(owner, threading.BoundedSemaphore(self.policy.per_user))

    def _connection(self, url: str, deadline: float) -> tuple[_Pinned, str]:
        """A connection to a checked address of the URL's host (not yet opened), and the request's path."""
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise FetchError("not a valid URL", str(error)) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) URL")
        try:
            found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
            answers = [(str(a[4][0]), int(a[4][1])) for a in found]
        except (OSError, UnicodeError) as error:
            raise FetchError("name not resolved", f"{type(error).__name__}: {error}") from None
        refused = [address for address, _port in answers if not self.allowed(address)]
        if refused or not answers:
            raise FetchError("address not allowed", f"{parts.hostname} resolves to {', '.join(refused)}")
        kind = _PinnedTLS if parts.scheme == "https" else _Pinned
        return kind(parts.hostname, port, answers, deadline), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the addresses given, whatever the name now resolves to, by the deadline; expire() cuts
    it."""

    def __init__(self, host: str, port: int, answers: list[Answer], deadline: float, **options: Any) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT, **options)
        self.answers, self.deadline, self.expired = answers, deadline, False
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self._open()

    def _open(self) -> socket.socket:
        failure: OSError = OSError("no address")
        for answer in self.answers:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or self.expired:
                raise TimeoutError("the deadline passed while connecting")
            try:
                sock = socket.create_connection(answer, min(self.timeout, remaining))
            except OSError as error:
                failure = error
                continue
            sock.settimeout(self.timeout)  # each read's; the watchdog keeps the deadline
            self.raw = sock
            if self.expired:  # expire() ran while connecting
                self.expire()
            return sock
        raise failure

    def expire(self) -> None:
        """The deadline: the socket is shut, which ends a read in progress in the fetching thread."""
        self.expired = True
        if self.raw is not None:
            with contextlib.suppress(OSError):
                self.raw.shutdown(socket.SHUT_RDWR)


class _PinnedTLS(_Pinned, http.client.HTTPSConnection):
    """HTTPS to the addresses given; the certificate is checked against the URL's name (SNI too), with the system's
    trusted CAs."""

    def __init__(self, host: str, port: int, answers: list[Answer], deadline: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, answers, deadline, context=self.tls)

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(self._open(), server_hostname=self.host)


@contextlib.contextmanager
def _watched(conn: _Pinned, deadline: float) -> Iterator[None]:
    """The connection, cut at the deadline (the watchdog), and closed after."""
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), conn.expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        conn.close()


def _follow(url: str, location: str) -> str:
    """Where a redirect leads, in the same scheme only."""
    try:
        following = urllib.parse.urljoin(url, location)
        same = urllib.parse.urlsplit(following).scheme == urllib.parse.urlsplit(url).scheme
    except ValueError:
        raise FetchError("redirect to a malformed URL") from None
    if not same:
        raise FetchError("redirect to another scheme", f"redirected to {redact(following)}")
    return following


def _exchange(conn: _Pinned, method: str, path: str, body: Iterator[bytes] | None) -> http.client.HTTPResponse:
    try:
        conn.request(method, path, body=body, headers=HEADERS if body is None else
                     {**HEADERS, "Content-Type": "application/octet-stream"})
        return conn.getresponse()
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _failure(conn, error) from None


def _copy(conn: _Pinned, response: http.client.HTTPResponse, out: IO[bytes], max_bytes: int) -> int:
    if response.length is not None and response.length > max_bytes:
        raise FetchError(f"larger than the limit of {max_bytes} bytes")
    received = 0
    try:
        while chunk := response.read1(CHUNK):  # one read at a time: the deadline is checked between them
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(f"larger than the limit of {max_bytes} bytes")
            out.write(chunk)
        if response.length:  # the connection ended before the Content-Length announced
            raise http.client.IncompleteRead(b"", response.length)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _failure(conn, error) from None
    if conn.expired:  # cut at the deadline: a body without a length just ends
        raise FetchError("timed out")
    return received


def _failure(conn: _Pinned, error: Exception) -> FetchError:
    """What to tell the task's owner: never the remote's words or the error's own text (only the log has those)."""
    detail = type(error).__name__ + (f": {error}" if isinstance(error, OSError) else "")
    if conn.expired or isinstance(error, TimeoutError):
        return FetchError("timed out", detail)
    if isinstance(error, http.client.IncompleteRead):
        return FetchError("body shorter than its Content-Length", detail)
    if isinstance(error, ssl.SSLError):
        return FetchError("TLS failed", detail)
    return FetchError("connection failed", detail)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
