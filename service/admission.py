"""Admission control: each request has a deadline, and one that is already late is refused.

REQUEST_DEADLINE_MS counts from the moment the whole request had arrived at the worker (which
notes it with arrival.note_arrival() in the thread that runs the request; under other servers,
from the start of the handler). A request that waited for a thread for more than half of its
deadline is answered 503 + Retry-After without doing any work: under overload the worker's
queue then drains at the cost of a cheap answer per request, instead of growing until every
request times out. The model call is bound by the same deadline (ModelRuntime.classify).
"""

import time

from flask import Flask, request

from service.arrival import take_arrival
from service.runtime import overloaded

DEADLINE_KEY = "service.deadline"
# Probes and scrapes are never refused: a refused liveness probe would restart a busy pod.
EXEMPT_BLUEPRINTS = frozenset({"health", "metrics"})


def deadline() -> float:
    """This request's deadline (time.monotonic())."""
    value: float = request.environ[DEADLINE_KEY]
    return value


def admit_in_time(app: Flask, deadline_seconds: float) -> None:
    """Give every request its deadline; refuse one that waited too long to start (503)."""

    @app.before_request
    def admit() -> None:
        arrived = take_arrival()
        request.environ[DEADLINE_KEY] = arrived + deadline_seconds
        if request.blueprint in EXEMPT_BLUEPRINTS:
            return
        waited = time.monotonic() - arrived
        if waited > deadline_seconds / 2:
            raise overloaded(f"waited {waited * 1000:.0f} ms for a thread")
