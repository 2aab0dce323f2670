"""Structured logs: one JSON object per line on stdout, with the request id when there is one."""

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Audit records (service.audit): always at INFO, whatever LOG_LEVEL, so none is ever dropped.
AUDIT_LOGGER = "image_classifier.audit"
# The id of the request this thread is handling (set by service.observability), if any.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """Format a record as a single JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send every logger's records to stdout as JSON at `level`; audit records at INFO."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)
