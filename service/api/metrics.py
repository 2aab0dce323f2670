"""GET /metrics: the Prometheus text exposition."""

from flask import Blueprint, Response, current_app

from service.metrics import Metrics

bp = Blueprint("metrics", __name__)
METRICS_KEY = "metrics"


@bp.get("/metrics")
def metrics() -> Response:
    """All workers' metrics (multiprocess mode under gunicorn)."""
    registry: Metrics = current_app.extensions[METRICS_KEY]
    body, content_type = registry.exposition()
    return Response(body, content_type=content_type)
