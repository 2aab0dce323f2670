"""Request helpers shared by the blueprints: the runtime, bodies within their limits, lookup."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import ClientDisconnected

from service.auth import authorize_model
from service.errors import ApiError, shown
from service.model_store import ModelArtifact
from service.observability import label_model
from service.runtime import ModelRuntime
from service.strict_json import parse_json

RUNTIME_KEY = "model_runtime"
T = TypeVar("T")


def runtime() -> ModelRuntime:
    """This app's model runtime."""
    value: ModelRuntime = current_app.extensions[RUNTIME_KEY]
    return value


def resolve_model(name: str, version: str | None = None) -> ModelArtifact:
    """Look up the served model, label the request with it (unknown names stay unlabelled) and
    check that the caller may use it."""
    artifact = runtime().resolve(name, version)
    label_model(request.environ, artifact.name, artifact.version)
    authorize_model(artifact.name, artifact.version)
    return artifact


def require_content_type(*allowed: str, missing_ok: bool = False) -> str:
    """The request's media type if it is one of `allowed`, else 415; a compressed body (any
    Content-Encoding but identity) is a 415 too, on every endpoint that takes one."""
    if request.content_encoding not in (None, "", "identity"):
        raise ApiError(
            415, f"unsupported Content-Encoding {shown(request.content_encoding)}: send identity"
        )
    media = request.mimetype
    if media in allowed or (missing_ok and not media):
        return media
    expected = " or ".join(allowed)
    raise ApiError(415, f"unsupported Content-Type {media or '(none)'!r}: expected {expected}")


def reading_body(read: Callable[[], T]) -> T:
    """Run `read` (which reads the request body); a client too slow or gone is a 408 or 400."""
    try:
        return read()
    except (OSError, ClientDisconnected) as error:
        # Werkzeug reports a failed read as ClientDisconnected, the cause in its context.
        cause = error.__context__ if isinstance(error, ClientDisconnected) else error
        if isinstance(cause, TimeoutError):
            raise ApiError(408, "request body not received in time") from None
        raise ApiError(400, "request body ended early or is malformed") from None


def body_within(limit: int, what: str) -> bytes:
    """The whole body, or 413 if it is (or declares to be) over `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise ApiError(413, f"{what} of {declared} bytes: at most {limit} are accepted")
    data = reading_body(lambda: request.get_data(cache=False))
    if len(data) > limit:  # a chunked body declares no length
        raise ApiError(413, f"{what} of {len(data)} bytes: at most {limit} are accepted")
    return data


def json_object_body() -> dict[str, Any]:
    """The body as a JSON object; 415 unless Content-Type is JSON, 400 unless an object."""
    require_content_type("application/json", missing_ok=True)
    body = parse_json(body_within(runtime().settings.max_json_bytes, "JSON body"))
    if not isinstance(body, dict):
        raise ApiError(400, f"request body must be a JSON object, got {type(body).__name__}")
    return body
