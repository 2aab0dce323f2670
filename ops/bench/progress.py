"""Progress lines for long runs: one line per stage with its estimate and the time left in all."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


class Progress:
    """`stages` maps each stage's name to its estimated seconds, in the order they run."""

    def __init__(self, stages: dict[str, float], out: TextIO = sys.stderr) -> None:
        self._estimates = dict(stages)
        self._out = out
        self._done: list[str] = []
        self._began = time.monotonic()

    def _line(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Announce `name` with its estimate before it runs and its real duration after."""
        number = len(self._done) + 1
        left = sum(s for n, s in self._estimates.items() if n not in self._done)
        self._line(
            f"[{number}/{len(self._estimates)}] {name}: about "
            f"{_duration(self._estimates[name])} (about {_duration(left)} left in all)"
        )
        began = time.monotonic()
        try:
            yield
        finally:
            self._done.append(name)
            self._line(
                f"[{number}/{len(self._estimates)}] {name}: done in "
                f"{_duration(time.monotonic() - began)} "
                f"({_duration(time.monotonic() - self._began)} so far)"
            )
