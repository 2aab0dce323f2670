"""A gunicorn gthread worker that leaves new connections to its siblings while it is busy.

All workers poll one shared listening socket, and whichever main thread wakes first accepts.
Clients that open their connections in a burst and keep them alive (wrk, a gateway's pool)
were measured landing 1/15 or even 16/0 on two workers: one worker's threads queue requests
while the other worker's CPU idles, for as long as the connections live. This worker stops
polling the listener while its requests in progress plus its fresh, not yet read connections
fill its threads, and polls it again when a request finishes; a sibling with a free thread
takes the connection meanwhile. A connection that sends nothing stops counting after
FRESH_CONNECTION_SECONDS, so idle sockets cannot keep a worker from accepting.
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
    """gthread, accepting only while a thread is free for the new connection."""

    def init_process(self) -> None:
        """Set up the bookkeeping before gunicorn's loop starts (it never returns)."""
        self._fresh: deque[float] = deque()  # accept times of connections not yet read
        self._paused: dict[socket.socket, Any] = {}  # listener -> its address
        super().init_process()

    def _busy(self) -> bool:
        expired = time.monotonic() - FRESH_CONNECTION_SECONDS
        while self._fresh and self._fresh[0] < expired:
            self._fresh.popleft()
        return len(self.futures) + len(self._fresh) >= self.cfg.threads

    def accept(self, server: Any, listener: socket.socket) -> None:
        """Accept one connection; stop polling the listener if every thread is now taken."""
        connections = self.nr_conns
        super().accept(server, listener)
        if self.nr_conns == connections:
            return  # nothing to accept: a sibling took it
        self._fresh.append(time.monotonic())
        if self._busy():
            with self._lock:
                self.poller.unregister(listener)
                self._paused[listener] = server

    def on_client_socket_readable(self, conn: Any, client: socket.socket) -> None:
        """A connection's first request arrived: it is in progress now, not fresh."""
        if not conn.initialized and self._fresh:
            self._fresh.popleft()
        super().on_client_socket_readable(conn, client)

    def finish_request(self, fs: "Future[Any]") -> None:
        """A request finished, so a thread is free: poll the listeners again."""
        super().finish_request(fs)
        self._resume()

    def murder_keepalived(self) -> None:
        """Gunicorn's once-per-loop housekeeping; also resume once fresh connections expired."""
        super().murder_keepalived()
        if self._paused and not self._busy():
            self._resume()

    def _resume(self) -> None:
        with self._lock:
            if not self.alive:
                return
            for listener, server in self._paused.items():
                self.poller.register(listener, selectors.EVENT_READ, partial(self.accept, server))
            self._paused.clear()
