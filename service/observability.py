"""Per-request bookkeeping: request id, in-flight gauge, latency metrics and one access log line."""

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from service.metrics import Metrics

log = logging.getLogger("service.access")
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def instrument(app: Flask, metrics: Metrics) -> None:
    """Register the before/after hooks that measure and log every request."""

    @app.before_request
    def begin() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()
        metrics.in_flight.inc()

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        labels = (endpoint, g.get("model", ""), g.get("version", ""), str(response.status_code))
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.requests.labels(*labels).inc()
        metrics.latency.labels(*labels).observe(seconds)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round(seconds * 1000, 2),
                "model": labels[1],
                "version": labels[2],
            },
        )
        return response

    @app.teardown_request
    def leave(_error: BaseException | None) -> None:
        if "started" in g:
            metrics.in_flight.dec()
