"""Strict JSON parsing whose failures are client errors (400) naming the problem."""

import json
from typing import Any

from service.errors import ApiError


def _reject_constant(token: str) -> Any:
    raise ApiError(400, f"malformed JSON: {token} is not a valid JSON number")


def parse_json(data: bytes) -> Any:
    """Parse JSON, refusing NaN and Infinity, or raise a 400 saying why."""
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed JSON: body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"malformed JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
