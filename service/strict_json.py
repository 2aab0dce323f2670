"""Strict JSON parsing whose failures are client errors (400) naming the problem."""

import json
import math
from typing import Any

from service.errors import ApiError

# Nothing in the API needs an integer beyond int64; longer ones would only cost CPU (Python's
# int conversion is quadratic) or fail later when numpy converts them.
MAX_INTEGER_DIGITS = 19


def _reject_constant(token: str) -> Any:
    raise ApiError(400, f"malformed JSON: {token} is not a valid JSON number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ApiError(
            400, f"malformed JSON: an integer of {len(text)} characters is out of range (int64)"
        )
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(
            400, f"malformed JSON: a number of {len(text)} characters is out of range (float64)"
        )
    return value


def parse_json(data: bytes) -> Any:
    """Parse JSON, refusing NaN, Infinity and out-of-range numbers, or raise a 400 saying why."""
    try:
        return json.loads(
            data,
            parse_constant=_reject_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except UnicodeDecodeError:
        raise ApiError(400, "malformed JSON: body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ApiError(
            400, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
