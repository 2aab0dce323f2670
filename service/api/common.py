"""Request helpers shared by the blueprints: the runtime, JSON bodies, model lookup."""

from typing import Any

from flask import current_app, request

from service.errors import ApiError
from service.model_store import ModelArtifact
from service.observability import label_model
from service.runtime import ModelRuntime
from service.strict_json import parse_json

RUNTIME_KEY = "model_runtime"


def runtime() -> ModelRuntime:
    """This app's model runtime."""
    value: ModelRuntime = current_app.extensions[RUNTIME_KEY]
    return value


def resolve_model(name: str, version: str | None = None) -> ModelArtifact:
    """Look up the served model and label the request with it (unknown names stay unlabelled)."""
    artifact = runtime().resolve(name, version)
    label_model(request.environ, artifact.name, artifact.version)
    return artifact


def require_content_type(*allowed: str, missing_ok: bool = False) -> str:
    """The request's media type if it is one of `allowed`, else 415."""
    media = request.mimetype
    if media in allowed or (missing_ok and not media):
        return media
    expected = " or ".join(allowed)
    raise ApiError(415, f"unsupported Content-Type {media or '(none)'!r}: expected {expected}")


def json_object_body() -> dict[str, Any]:
    """The body as a JSON object; 415 unless Content-Type is JSON, 400 unless an object."""
    require_content_type("application/json", missing_ok=True)
    body = parse_json(request.get_data(cache=False))
    if not isinstance(body, dict):
        raise ApiError(400, f"request body must be a JSON object, got {type(body).__name__}")
    return body
