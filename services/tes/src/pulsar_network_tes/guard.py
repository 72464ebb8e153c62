"""Before a TES request reaches its route: its caller is known and its body is bounded.

FastAPI reads a request's body before it resolves the route's dependencies, so authentication as a dependency alone
would let anyone make the service read and parse a body of any size. This ASGI middleware authenticates a TES request
from its headers first (401, the body never read), refuses a declared Content-Length over the cap (413), and counts a
body as it streams in, refusing it once it passes the cap (413). The caller it found is the route's (app._caller).
The job files API has its own key and takes large uploads: it is left to its route. GET /service-info is public, as
clients read it before anything else (py-tes, Snakemake's TES executor) and the spec defines no credentials for it;
it has no body and names no user's data.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from .auth import Unauthenticated, authenticate
from .config import Settings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """A body past the cap, found while it streams in; app.py answers it 413 naming the body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body: larger than {limit} bytes")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status_code": status, "message": message}, status_code=status)


def unauthenticated(reason: str) -> JSONResponse:
    response = error(401, reason)
    response.headers["WWW-Authenticate"] = 'Bearer realm="tes", Basic realm="tes"'
    return response


PUBLIC_PATH = "/service-info"


def public(scope: Scope, prefixes: tuple[str, ...]) -> bool:
    """A request any client may make without credentials: reading the service's description."""
    return scope["method"] == "GET" and any(scope["path"] == prefix + PUBLIC_PATH for prefix in prefixes)


class RequestGuard:
    def __init__(self, app: Any, settings: Settings, prefixes: tuple[str, ...]) -> None:
        self.app, self.settings, self.prefixes = app, settings, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes) or public(scope, self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            # In a thread: a basic password costs PBKDF2's rounds, which would hold every other request on the loop.
            caller = await run_in_threadpool(authenticate, self.settings, headers.get("authorization"))
        except Unauthenticated as refused:
            await unauthenticated(str(refused))(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        limit = self.settings.limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await error(413, BodyTooLarge(limit).detail)(scope, receive, send)
            return
        received = 0

        async def bounded() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, bounded, send)
