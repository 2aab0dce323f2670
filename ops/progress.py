"""Progress lines for long runs (`make setup`, `make bench`): one line per stage with its
estimate and the time left in all, then its real duration (or that it failed)."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class Progress:
    """`stages` maps each stage's name to its estimated seconds, in the order they run."""

    def __init__(
        self, stages: dict[str, float], out: TextIO | None = None, prefix: str = ""
    ) -> None:
        self._estimates = dict(stages)
        self._out = out  # None: sys.stderr as it is when a line is printed
        self._prefix = prefix
        self._done: list[str] = []
        self._began = time.monotonic()

    def _line(self, text: str) -> None:
        print(self._prefix + text, file=self._out or sys.stderr, flush=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Announce `name` with its estimate before it runs and its real duration after."""
        counter = f"[{len(self._done) + 1}/{len(self._estimates)}] {name}"
        left = sum(s for n, s in self._estimates.items() if n not in self._done)
        self._line(
            f"{counter}: about {_duration(self._estimates[name])} "
            f"(about {_duration(left)} left in all)"
        )
        began = time.monotonic()
        try:
            yield
        except BaseException:
            self._line(f"{counter}: FAILED after {_duration(time.monotonic() - began)}")
            raise
        finally:
            self._done.append(name)
        self._line(
            f"{counter}: done in {_duration(time.monotonic() - began)} "
            f"({_duration(time.monotonic() - self._began)} so far)"
        )
