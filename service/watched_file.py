"""A config file parsed once and again whenever it changes, keeping the last good content.

A mounted Secret is updated in place by the kubelet (a new file swapped in), so every worker
follows a rotation or a revocation on its next request, without a restart.
"""

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from service.settings import SettingsError

log = logging.getLogger(__name__)
T = TypeVar("T")


class WatchedFile(Generic[T]):
    """`parse(path)`, re-run when the file's identity, size or mtime change."""

    def __init__(self, path: Path, parse: Callable[[Path], T]) -> None:
        self._path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._value = parse(path)  # at startup a bad file is fatal

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self._path)
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def current(self) -> T:
        """The current content; a file broken by an update keeps the last good one (logged)."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return self._value
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._value = self._parse(self._path)
                    log.info("re-read %s", self._path)
                except SettingsError as error:
                    log.error("keeping the previous content of %s: %s", self._path, error)
                self._stamp = stamp
        return self._value
