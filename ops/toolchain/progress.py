"""One-line progress reports with durations for the setup steps."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

SAY_PREFIX = "[setup] "


def say(message: str) -> None:
    """Print a setup message to stderr, flushed, so make shows it as it happens."""
    print(SAY_PREFIX + message, file=sys.stderr, flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step and report how long it took, or that it failed."""
    say(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"{name} FAILED after {time.monotonic() - started:.0f}s")
        raise
    say(f"{name} done in {time.monotonic() - started:.0f}s")
