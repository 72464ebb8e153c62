"""The TES 1.1 HTTP API, served under /ga4gh/tes/v1 and /v1 (clients differ), and a health endpoint at /healthz.

Every TES route but GET /service-info needs a caller (auth.py), found before the body is read (guard.py). A caller
sees and cancels its own tasks; an admin sees and cancels all. A task that is not the caller's is answered 404, as if
it did not exist. A request the spec's schema refuses is answered 400 with the field named; a store that cannot be
reached is 503; any other failure is logged and answered 500 without detail. What one request may cost is bounded:
its body (413), its fields and counts (models.py), and the bytes of tasks one page holds (a page ends early with a
next_page_token). /healthz answers loopback only: it names every endpoint's verdict and the store's errors.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from . import logs
from .auth import Caller
from .backend import Backend
from .config import Settings
from .guard import BodyTooLarge, RequestGuard, error
from .models import State, Task, View
from .placement import refusal
from .store import BadPageToken
from .store import Query as StoreQuery
from .store import StoreUnavailable, TaskStore
from .views import render

PREFIXES = ("/ga4gh/tes/v1", "/v1")
MAX_PAGE_SIZE = 2047  # the spec: "must be less than 2048"
DEFAULT_PAGE_SIZE = 256
MAX_TAG_FILTERS = 32  # each is a subquery: about a thousand passed SQLite's expression limit
LOOPBACK = ("127.0.0.1", "::1")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _field(loc: tuple[Any, ...]) -> str:
    """('body', 'executors', 0, 'image') -> executors[0].image"""
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    if parts[-1:] == ("[key]",):  # a mapping's key is wrong: name the mapping, not the key (which may not print)
        parts = parts[:-2]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _validation_message(error: RequestValidationError) -> str:
    first = error.errors()[0]
    if first.get("type") == "json_invalid":
        return f"body: malformed JSON ({first.get('ctx', {}).get('error', 'cannot be parsed')})"
    field = _field(tuple(first.get("loc", ())))
    message = first.get("msg", "invalid").removeprefix("Value error, ")
    return f"{field}: {message}"


_error = error


def _caller(request: Request) -> Caller:
    """The caller RequestGuard authenticated from the headers, before the body was read."""
    return request.state.caller


Who = Annotated[Caller, Depends(_caller)]


def create_app(settings: Settings, store: TaskStore, backend: Backend, routers: tuple[APIRouter, ...] = (),
               lifespan: Any = None) -> FastAPI:
    """The service's app; routers are more routes beside TES's (the job files API), lifespan starts the backend."""
    app = FastAPI(title="Pulsar Network TES", version="1.1.0", openapi_url=None, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(RequestGuard, settings=settings, prefixes=PREFIXES)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_message(error))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return _error(413, error.detail)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        return _error(error.status_code, f"{request.url.path}: {error.detail}")  # unknown routes, wrong methods

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.message)

    @app.exception_handler(StoreUnavailable)
    async def _store_unavailable(request: Request, error: StoreUnavailable) -> JSONResponse:
        logs.event("store_unavailable", path=request.url.path, error=str(error))
        return _error(503, "the task store cannot be reached; try again later")

    @app.middleware("http")
    async def _access_log(request: Request, call_next: Any) -> Any:
        start = time.monotonic()
        try:
            response = await call_next(request)
        except Exception:
            fields = {"method": request.method, "path": request.url.path}
            logs.log.exception("request_failed", extra={"fields": fields})
            response = _error(500, "internal error; see the service's log")
        logs.event("request", method=request.method, path=request.url.path, status=response.status_code,
                   user=getattr(getattr(request.state, "caller", None), "name", None), ms=round((time.monotonic() - start) * 1000, 1))
        return response

    def visible(task_id: str, who: Caller) -> dict[str, Any]:
        found = store.get(task_id)
        if found is None or not who.may_see(found[0]):
            raise ApiError(404, f"id: no task {task_id}")
        return found[1]

    router = APIRouter()

    @router.get("/service-info")
    def service_info() -> dict[str, Any]:
        service = settings.service
        return {
            "id": service.get("id", "eu.pulsar-network.tes"),
            "name": service.get("name", "Pulsar Network TES"),
            "type": {"group": "org.ga4gh", "artifact": "tes", "version": "1.1.0"},
            "description": service.get("description", "GA4GH TES in front of the Pulsar Network's endpoints"),
            "organization": service.get("organization", {"name": "Pulsar Network", "url": "https://pulsar-network.eu"}),
            "version": service.get("version", "1.1.0"),
            # What file:// URLs may name (each user's area under a root), from the settings that decide it.
            "storage": [f"file://{root}" for root in settings.backend.storage_roots],
            "tesResources_backend_parameters": sorted(settings.backend_parameters),
        }

    @router.post("/tasks")
    def create_task(task: Task, who: Who) -> dict[str, str]:
        document = task.model_dump(mode="json", exclude_none=True)
        problem = refusal(settings.endpoints, task.resources) or backend.problem(document, who.name)
        if problem:
            raise ApiError(400, problem)
        given = set((task.resources.backend_parameters or {}) if task.resources else {})
        unknown = sorted(given - settings.backend_parameters)
        if unknown and task.resources and task.resources.backend_parameters_strict:
            raise ApiError(400, f"resources.backend_parameters: not supported here: {', '.join(unknown)}")
        if unknown:
            document["logs"] = [{"logs": [], "outputs": [],
                                 "system_logs": [f"ignored backend_parameters: {', '.join(unknown)}"]}]
        stored = store.create(who.name, document)
        logs.event("task_created", task=stored["id"], user=who.name, executors=len(task.executors))
        backend.submit(stored)
        return {"id": stored["id"]}

    @router.get("/tasks")
    def list_tasks(
        who: Who,
        name_prefix: str | None = None,
        state: State | None = None,
        tag_key: Annotated[list[str] | None, Query()] = None,
        tag_value: Annotated[list[str] | None, Query()] = None,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
        view: View = View.MINIMAL,
    ) -> dict[str, Any]:
        keys, values = tag_key or [], tag_value or []
        if len(keys) > MAX_TAG_FILTERS:
            raise ApiError(400, f"tag_key: at most {MAX_TAG_FILTERS} tag filters")
        if len(values) > len(keys):
            raise ApiError(400, "tag_value: more values than tag_key")
        tags = dict(zip(keys, values + [""] * (len(keys) - len(values))))
        query = StoreQuery(owner=None if who.admin else who.name, name_prefix=name_prefix, state=state, tags=tags,
                           page_size=page_size, page_token=page_token, minimal=view is View.MINIMAL,
                           max_bytes=settings.limits.max_page_bytes)
        try:
            tasks, token = store.list(query)
        except BadPageToken as error:
            raise ApiError(400, str(error)) from error
        body: dict[str, Any] = {"tasks": [render(t, view) for t in tasks]}
        if token:
            body["next_page_token"] = token
        return body

    @router.get("/tasks/{task_id}")
    def get_task(task_id: str, who: Who, view: View = View.MINIMAL) -> dict[str, Any]:
        return render(visible(task_id, who), view)

    @router.post("/tasks/{task_id}:cancel")
    def cancel_task(task_id: str, who: Who) -> dict[str, Any]:
        document = visible(task_id, who)
        if not State(document["state"]).final:
            document = store.update(task_id, State.CANCELING) or document
            logs.event("task_canceling", task=task_id, user=who.name)
            backend.cancel(document)
        return {}

    for prefix in PREFIXES:
        app.include_router(router, prefix=prefix)
    for extra in routers:
        app.include_router(extra)

    @app.get("/healthz")
    def health(request: Request) -> JSONResponse:
        if request.client is None or request.client.host not in LOOPBACK:
            raise HTTPException(404, "Not Found")  # as any unknown route
        try:
            store.list(StoreQuery(page_size=1))
        except Exception as error:  # the store is what the service cannot work without
            return JSONResponse({"status": "failing", "store": str(error)}, status_code=503)
        endpoints = backend.health() if hasattr(backend, "health") else {}
        return JSONResponse({"status": "ok", "store": "ok", "endpoints": endpoints,
                             "healthy_endpoints": sum(v == "healthy" for v in endpoints.values())})

    return app
