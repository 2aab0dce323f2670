"""The audit trail: one record per request to a protected endpoint, on its own logger.

Each record (a JSON line, `"logger": "image_classifier.audit"`, so a log pipeline can route
it) says who called (the client's name, never its token), what (endpoint, model, version), the
outcome (HTTP status, and the reason of a refusal) and the request id; refusals are also
counted per client and reason. A caller without a valid token is `unknown` in both, so neither
grows with what callers send.
"""

import logging

from flask import Flask, Response, request

from service.auth import CALLER_KEY, PROTECTED_BLUEPRINTS, REFUSAL_KEY, Caller
from service.clients import UNKNOWN
from service.logs import AUDIT_LOGGER, current_request_id
from service.metrics import Metrics
from service.observability import labelled_model

log = logging.getLogger(AUDIT_LOGGER)


def audit_requests(app: Flask, metrics: Metrics) -> None:
    """Record every answer to a protected request, refusals included."""

    @app.after_request
    def record(response: Response) -> Response:
        if request.blueprint in PROTECTED_BLUEPRINTS:
            caller: Caller = request.environ.get(CALLER_KEY, Caller(UNKNOWN))
            reason: str | None = request.environ.get(REFUSAL_KEY)
            if reason is not None:
                metrics.refusals.labels(caller.name, reason).inc()
            model, version = labelled_model(request.environ) or _requested_model()
            log.info(
                "audit",
                extra={
                    "client": caller.name,
                    "endpoint": request.endpoint,
                    "model": model,
                    "version": version,
                    "status": response.status_code,
                    "reason": reason,
                    "request_id": current_request_id.get(),
                },
            )
        return response


def _requested_model() -> tuple[str, str]:
    """The model and version the request asked for (before it was resolved, or if it failed)."""
    arguments = request.view_args or {}
    return str(arguments.get("name") or ""), str(arguments.get("version") or "")
