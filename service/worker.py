"""A gunicorn gthread worker that leaves new connections to its siblings while it is busy.

All workers poll one shared listening socket, and whichever main thread wakes first accepts.
Clients that open their connections in a burst and keep them alive (wrk, a gateway's pool)
were measured landing 0/4, 1/15 and 0/16 on two workers: one worker's threads queue requests
while the other worker's CPU idles, for as long as the connections live. With more than one
worker, this worker stops polling the listener after an accept until that connection has sent
its request, and while its requests in progress fill its threads; it polls again when a request
finishes. A sibling takes the connections meanwhile. A connection that sends nothing stops
counting after FRESH_CONNECTION_SECONDS, so silent sockets cannot keep a worker from accepting.
Measured with wrk: 16 connections split 8/8 every time, 4 connections 1/3 or 2/2.

A worker that replaces a dead or recycled one (max_requests) loads its model while its siblings
serve, so it takes no connection until release(): otherwise it would answer 503 "not ready" to
the requests it accepted meanwhile, although the pod as a whole is ready. A fresh pod's first
workers accept at once, so that liveness answers while they load.
"""

import selectors
import socket
import time
from collections import deque
from concurrent.futures import Future
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

FRESH_CONNECTION_SECONDS = 1.0


class BalancedThreadWorker(ThreadWorker):
    """gthread that leaves a new connection to a sibling while it is still reading or busy."""

    def init_process(self) -> None:
        """Set up the bookkeeping before gunicorn's loop starts (it never returns)."""
        self._fresh: deque[float] = deque()  # accept times of connections not yet read
        self._paused: dict[socket.socket, Any] = {}  # listener -> its address
        self._balancing = self.cfg.workers > 1  # with no sibling, pausing would help no one
        self._holding = self._balancing and self.age > self.cfg.workers  # a replacement
        super().init_process()

    def release(self) -> None:
        """Take connections from now on (a replacement holds them until its model settled)."""
        self._holding = False
        self._resume()

    def _should_pause(self) -> bool:
        expired = time.monotonic() - FRESH_CONNECTION_SECONDS
        while self._fresh and self._fresh[0] < expired:
            self._fresh.popleft()
        in_progress = len(self.futures) + len(self._fresh)
        return bool(self._fresh) or in_progress >= self.cfg.threads

    def accept(self, server: Any, listener: socket.socket) -> None:
        """Accept one connection, then pause the listener until it has sent its request."""
        if self._holding:
            self._pause(server, listener)
            return
        connections = self.nr_conns
        super().accept(server, listener)
        if self.nr_conns == connections:
            return  # nothing to accept: a sibling took it
        self._fresh.append(time.monotonic())
        if self._balancing and self._should_pause():
            self._pause(server, listener)

    def on_client_socket_readable(self, conn: Any, client: socket.socket) -> None:
        """A connection's first request arrived: it is in progress now, not fresh."""
        if not conn.initialized and self._fresh:
            self._fresh.popleft()
        super().on_client_socket_readable(conn, client)
        self._resume_unless_busy()

    def finish_request(self, fs: "Future[Any]") -> None:
        """A request finished, so a thread is free: poll the listeners again."""
        super().finish_request(fs)
        self._resume()

    def murder_keepalived(self) -> None:
        """Gunicorn's once-per-loop housekeeping; also resume once fresh connections expired."""
        super().murder_keepalived()
        self._resume_unless_busy()

    def _pause(self, server: Any, listener: socket.socket) -> None:
        with self._lock:
            self.poller.unregister(listener)
            self._paused[listener] = server

    def _resume_unless_busy(self) -> None:
        if self._paused and not self._should_pause():
            self._resume()

    def _resume(self) -> None:
        if not self._paused:
            return  # the common case, checked without the lock; _pause() sets it under the lock
        with self._lock:
            if self._holding or not self.alive:
                return
            for listener, server in self._paused.items():
                self.poller.register(listener, selectors.EVENT_READ, partial(self.accept, server))
            self._paused.clear()
