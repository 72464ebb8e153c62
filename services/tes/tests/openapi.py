"""Validate the service's answers against the TES 1.1 OpenAPI document (spec/), offline."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_DIR = pathlib.Path(__file__).parent / "spec"
TES = "urn:tes-1.1.0"
SERVICE_INFO = "https://raw.githubusercontent.com/ga4gh-discovery/ga4gh-service-info/v1.0.0/service-info.yaml"

SPEC = yaml.safe_load((SPEC_DIR / "tes-1.1.0.openapi.yaml").read_text())
_REGISTRY = Registry().with_resources([
    (TES, Resource.from_contents(SPEC, default_specification=DRAFT4)),
    (SERVICE_INFO, Resource.from_contents(yaml.safe_load((SPEC_DIR / "ga4gh-service-info-1.0.0.yaml").read_text()),
                                          default_specification=DRAFT4)),
])


def validate(instance: Any, schema: str) -> None:
    """Raise jsonschema.ValidationError unless instance is a valid components/schemas/<schema>."""
    Draft4Validator({"$ref": f"{TES}#/components/schemas/{schema}"}, registry=_REGISTRY).validate(instance)


def response_schema(path: str, method: str) -> str:
    """The schema name of an operation's 200 answer, from the document itself."""
    ref = SPEC["paths"][path][method]["responses"][200]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def _minimal_task_schema() -> dict[str, Any]:
    # tesTask without its required list, its references made absolute so that it stands alone.
    schema = {k: v for k, v in SPEC["components"]["schemas"]["tesTask"].items() if k != "required"}
    return json.loads(json.dumps(schema, default=str).replace('"#/components/', f'"{TES}#/components/'))


def validate_task(instance: Any, view: str) -> None:
    """A task in a view. The MINIMAL view holds only id and state (the spec's `view` parameter), though tesTask
    requires executors: that view is checked against tesTask without its required list."""
    if view == "MINIMAL":
        assert set(instance) == {"id", "state"}, instance
        Draft4Validator(_minimal_task_schema(), registry=_REGISTRY).validate(instance)
    else:
        validate(instance, "tesTask")


def validate_response(method: str, path_url: str, status: int, body: Any) -> None:
    """Check one answer of the service, by its request (method and path with query), against the TES document.
    A refusal carries a one-line message; the spec leaves error bodies open."""
    import urllib.parse

    parts = urllib.parse.urlsplit(path_url)
    path = parts.path.removeprefix("/ga4gh/tes/v1").removeprefix("/v1")
    view = urllib.parse.parse_qs(parts.query).get("view", ["MINIMAL"])[0]
    if status >= 400:
        assert isinstance(body.get("message"), str) and body["message"], body
        return
    if method == "GET" and path == "/tasks":
        validate({**body, "tasks": []}, response_schema("/tasks", "get"))
        for item in body["tasks"]:
            validate_task(item, view)
    elif method == "GET" and path.startswith("/tasks/"):
        validate_task(body, view)
    elif method == "POST" and path.endswith(":cancel"):
        validate(body, response_schema("/tasks/{id}:cancel", "post"))
    elif method == "POST" and path == "/tasks":
        validate(body, response_schema("/tasks", "post"))
    elif method == "GET" and path == "/service-info":
        validate(body, response_schema("/service-info", "get"))
    else:
        raise AssertionError(f"no operation of the TES document for {method} {path}")
