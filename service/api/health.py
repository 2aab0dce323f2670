"""Liveness and readiness probes (the v2 protocol's health endpoints)."""

from flask import Blueprint, Response, jsonify

from service.api.common import runtime

bp = Blueprint("health", __name__, url_prefix="/v2/health")


@bp.get("/live")
def live() -> tuple[Response, int]:
    """200 while the worker can serve; 503 once its model thread died (so the pod restarts)."""
    alive = runtime().live
    return jsonify({"live": alive}), 200 if alive else 503


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """200 once the model is loaded and warmed up in this worker and every sibling has had
    its model; 503 while loading, failed or draining.

    The reason for a failure is in the worker's log, not here: it names files and checksums."""
    current = runtime()
    ready = current.ready and current.every_worker_loaded()
    body = {"ready": ready, "state": current.state.value}
    return jsonify(body), 200 if ready else 503
