"""Liveness and readiness probes (the v2 protocol's health endpoints)."""

from flask import Blueprint, Response, jsonify

from service.api.common import runtime

bp = Blueprint("health", __name__, url_prefix="/v2/health")


@bp.get("/live")
def live() -> Response:
    """200 while the worker process can answer at all."""
    return jsonify({"live": True})


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """200 once the model is loaded and warmed up; 503 while loading, failed or draining."""
    current = runtime()
    body: dict[str, object] = {"ready": current.ready, "state": current.state.value}
    if current.error:
        body["error"] = current.error
    return jsonify(body), 200 if current.ready else 503
