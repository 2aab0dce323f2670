"""One API error type and the handlers that turn every error into `{"error": "..."}` JSON."""

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from service.logs import current_request_id

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client should see: HTTP status, message, optional extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """The TF-Serving / KServe error body."""
        return {"error": self.message}


def shown(value: Any, limit: int = 40) -> str:
    """A client's value quoted back in an error message, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _respond(error: ApiError) -> tuple[Response, int, dict[str, str]]:
    return jsonify(error.to_dict()), error.status, error.headers


def register_error_handlers(app: Flask) -> None:
    """API errors, werkzeug's HTTP errors (404, 405, 413, ...) and crashes all answer JSON."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> tuple[Response, int, dict[str, str]]:
        return _respond(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int, dict[str, str]]:
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
        return _respond(ApiError(error.code or 500, f"{error.name}: {error.description}", headers))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int, dict[str, str]]:
        # The log has the exception; the client gets only the id to find it by.
        log.exception("unhandled error")
        return _respond(ApiError(500, f"internal error (request id {current_request_id.get()})"))
