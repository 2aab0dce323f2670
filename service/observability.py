"""Per-request bookkeeping: request id, in-flight gauge, latency metrics and one access log line.

Mostly WSGI middleware around the Flask app rather than Flask hooks: it works on the plain
environ, a few dictionary lookups per request instead of three hooks' worth of context-local
proxies. One small hook notes the matched URL rule; views note the model with label_model().
"""

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, request

from service.logs import current_request_id
from service.metrics import Metrics

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("service.access")
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MODEL_KEY = "service.model"
_RULE_KEY = "service.rule"


def label_model(environ: "WSGIEnvironment", name: str, version: int) -> None:
    """Record the model that served this request, for its metrics labels and access log."""
    environ[_MODEL_KEY] = (name, str(version))


def labelled_model(environ: "WSGIEnvironment") -> tuple[str, str] | None:
    """The model and version label_model() recorded for this request, if any."""
    model: tuple[str, str] | None = environ.get(_MODEL_KEY)
    return model


def instrument(app: Flask, metrics: Metrics) -> None:
    """Measure and log every request `app` answers."""

    @app.before_request
    def note_rule() -> None:
        rule = request.url_rule
        request.environ[_RULE_KEY] = rule.rule if rule else "unmatched"

    app.wsgi_app = RequestInstrumentation(app.wsgi_app, metrics)  # type: ignore[method-assign]


class RequestInstrumentation:
    """Measure and log every request the wrapped WSGI app answers."""

    def __init__(self, app: "WSGIApplication", metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        given = environ.get(_REQUEST_ID_KEY, "")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        status = 500

        def start_with_id(
            status_line: str, headers: list[tuple[str, str]], exc_info: "OptExcInfo | None" = None
        ) -> Callable[[bytes], object]:
            nonlocal status
            status = int(status_line[:3])
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        token = current_request_id.set(request_id)
        self._metrics.in_flight.inc()
        try:
            return self._app(environ, start_with_id)
        finally:
            self._metrics.in_flight.dec()
            self._record(environ, status, time.perf_counter() - started)
            current_request_id.reset(token)

    def _record(self, environ: "WSGIEnvironment", status: int, seconds: float) -> None:
        model, version = labelled_model(environ) or ("", "")
        labels = (environ.get(_RULE_KEY, "unmatched"), model, version, str(status))
        self._metrics.requests.labels(*labels).inc()
        self._metrics.latency.labels(*labels).observe(seconds)
        log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD", ""),
                "path": environ.get("PATH_INFO", ""),
                "status": status,
                "ms": round(seconds * 1000, 2),
                "model": model,
                "version": version,
            },
        )
