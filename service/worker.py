"""A gunicorn gthread worker for hostile and bursty clients.

Reading in the loop. Plain gthread hands a connection to a request thread as soon as it is
readable, and the thread blocks until the request has arrived: 16 clients sending a byte per
second held all threads, and the liveness probe timed out. Here the event loop reads each
request without blocking until it is whole (service.arrival), within HEADER_TIMEOUT_SECONDS
for the head and BODY_TIMEOUT_SECONDS for the body; a client too slow gets 408 and is closed.
Health probes are answered by the loop itself, so they never queue behind requests.

Balancing. All workers poll one shared listening socket, and whichever main thread wakes first
accepts. Clients that open their connections in a burst and keep them alive (wrk, a gateway's
pool) were measured landing 0/4, 1/15 and 0/16 on two workers: one worker's threads queue
requests while the other worker's CPU idles, for as long as the connections live. With more
than one worker, this worker stops polling the listener after an accept until that connection
has sent its request, and while its requests in progress fill its threads; it polls again when
a request finishes, and at least every MAX_PAUSE_SECONDS. A sibling takes the connections
meanwhile. Measured with wrk: 16 connections split 8/8 every time, 4 connections 1/3 or 2/2.

Replacements. A worker that replaces a dead or recycled one loads its model while its siblings
serve, so it takes no connection until release(): otherwise it would answer 503 "not ready" to
the requests it accepted meanwhile. A fresh pod's first workers accept at once, so that
liveness answers while they load. Siblings recycle (max_requests) one at a time: a worker due
waits until every worker has its model. A worker alone in its pod has no sibling to serve while its
replacement loads, so when it reaches max_requests it asks the master for a successor
(SIGTTIN) and serves on; the successor holds until its model is ready, then asks the master to
stop the oldest worker (SIGTTOU), which is the recycled one.

Pipelining. An HTTP/1.1 client may send its next requests without waiting for the answers.
Their bytes then arrive with the first request's and sit in gunicorn's parser, not the socket,
so the loop never sees them: plain gthread answered the first and dropped the rest until the
keep-alive timeout. Here each pipelined request that is whole queues for a thread when the one
before it is answered, so they run in order and one client's pipeline holds no thread for long;
a partial one goes back to the loop, which reads the rest after the bytes it has.

Leaving. A worker that stops (SIGTERM, or recycled) serves the requests its kept-alive
connections send during LINGER_SECONDS, answering them with `Connection: close`, instead of
closing connections a client may be writing to: that race lost 24 requests in a 10-minute soak
with recycling.
"""

import contextlib
import errno
import io
import json
import os
import selectors
import signal
import socket
import time
from collections import deque
from concurrent import futures
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any

from gunicorn.http import RequestParser
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidSchemeHeaders,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    UnsupportedTransferCoding,
)
from gunicorn.workers.gthread import TConn, ThreadWorker

# Only light modules: gunicorn's master imports this one before it sets up the metrics
# directory, and prometheus_client must not be imported before that.
from service.arrival import Arrival, note_arrival
from service.settings import Settings

if TYPE_CHECKING:
    from service.metrics import Metrics

FRESH_CONNECTION_SECONDS = 1.0
# Long enough for a burst's connections (they send their requests within milliseconds) to
# reach the siblings; short enough that connections which never send theirs (slowloris)
# cannot keep every worker from accepting: 0.5 s let 24 of them delay a probe past 5 s.
MAX_PAUSE_SECONDS = 0.05
LINGER_SECONDS = 1.0
LOOP_SECONDS = 0.25  # the longest the loop sleeps: deadlines are enforced this precisely
READ_SIZE = 64 * 1024
SEND_TIMEOUT_SECONDS = 10.0
# Body bytes this worker's loop may hold for requests still arriving; beyond it, a request's
# thread reads its body (under the same deadline).
HELD_BODY_BUDGET_FACTOR = 4
MALFORMED_HTTP = (
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidHTTPVersion,
    InvalidHeader,
    InvalidHeaderName,
    InvalidSchemeHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    UnsupportedTransferCoding,  # gunicorn says 501; it is the client's input, so a 400 here
)


def json_response(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response with the API's JSON error body; closes."""
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


REQUEST_TIMEOUT = json_response(408, "Request Timeout", "request not received in time")


def _take_buffered(conn: TConn) -> bytes:
    """The bytes gunicorn's parser read past the requests it parsed (pipelined ones), taken
    out of it."""
    if conn.parser is None:
        return b""
    buffered = bytes(conn.parser.unreader.buf.getvalue())
    if buffered:
        conn.parser.unreader.buf = io.BytesIO()
    return buffered


class DeadlineSocket:
    """The client socket as gunicorn's parser reads it: each read bounded by the connection's
    deadline, so a request thread never waits on a slow client for longer."""

    def __init__(self, conn: TConn) -> None:
        self._conn = conn

    def recv(self, size: int) -> bytes:
        """Read, or TimeoutError once the deadline has passed."""
        sock = self._conn.sock
        remaining = self._conn.deadline - time.monotonic()
        if remaining <= 0:
            self._conn.timed_out = True  # the rest of the request is lost: close, not keep
            raise TimeoutError("request not received in time")
        sock.settimeout(remaining)
        try:
            data: bytes = sock.recv(size)
            return data
        except TimeoutError:
            self._conn.timed_out = True
            raise
        finally:
            sock.settimeout(SEND_TIMEOUT_SECONDS)


class BalancedThreadWorker(ThreadWorker):
    """gthread that reads requests in its loop, answers probes there, balances new
    connections with its siblings and leaves without dropping a kept-alive request."""

    successor = False  # set by gunicorn.conf.py's pre_fork for a recycled lone worker's heir
    alive: bool  # gunicorn's, typed here because this class sets them
    max_requests: int

    def init_process(self) -> None:
        """Set up the bookkeeping before gunicorn's loop starts (it never returns)."""
        settings = Settings.from_env()
        self._header_timeout = settings.header_timeout_seconds
        self._body_timeout = settings.body_timeout_seconds
        self._max_body = settings.max_request_bytes
        self._held_budget = HELD_BODY_BUDGET_FACTOR * settings.max_request_bytes
        self._held = 0
        self._reading: dict[TConn, Arrival] = {}  # connections whose request is arriving
        self._fresh: deque[float] = deque()  # accept times of connections not yet dispatched
        self._paused: dict[socket.socket, Any] = {}  # listener -> its address
        self._paused_at = 0.0
        self._balancing = self.cfg.workers > 1  # with no sibling, pausing would help no one
        replacement = self._balancing and self.age > self.cfg.workers
        self._holding = replacement or self.successor
        # gunicorn's own max_requests check would stop the loop at once; _recycle() does it.
        self._recycle_after = self.max_requests
        self.max_requests = 2**62
        self._recycling = False
        self._recycle_checked = 0.0
        super().init_process()

    @property
    def _metrics(self) -> "Metrics":
        # Imported late: the master imports this module before it may import prometheus_client.
        from service.api.metrics import METRICS_KEY

        metrics: Metrics = self.wsgi.extensions[METRICS_KEY]
        return metrics

    def release(self) -> None:
        """Take connections from now on (a replacement holds them until its model settled)."""
        self._holding = False
        self._resume()
        if self.successor:
            os.kill(self.ppid, signal.SIGTTOU)  # the master stops the oldest: the recycled one

    # --- Accepting and balancing ----------------------------------------------------------

    def _should_pause(self) -> bool:
        expired = time.monotonic() - FRESH_CONNECTION_SECONDS
        while self._fresh and self._fresh[0] < expired:
            self._fresh.popleft()
        in_progress = len(self.futures) + len(self._fresh)
        return bool(self._fresh) or in_progress >= self.cfg.threads

    def accept(self, server: Any, listener: socket.socket) -> None:
        """Accept one connection and start reading it; pause the listener if balancing."""
        if self._holding:
            self._pause(server, listener)
            return
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return  # a sibling took it
            raise
        conn = TConn(self.cfg, sock, client, server)
        with self._lock:
            self.nr_conns += 1
        self._start_reading(conn)
        self._fresh.append(time.monotonic())
        if self._balancing and self._should_pause():
            self._pause(server, listener)

    def _pause(self, server: Any, listener: socket.socket) -> None:
        with self._lock:
            self.poller.unregister(listener)
            self._paused[listener] = server
            self._paused_at = time.monotonic()

    def _resume_unless_busy(self) -> None:
        if not self._paused:
            return
        overdue = time.monotonic() - self._paused_at > MAX_PAUSE_SECONDS
        if overdue or not self._should_pause():
            self._resume()

    def _select_timeout(self) -> float:
        """LOOP_SECONDS, or less while paused: the pause ends on time even if nothing stirs."""
        if not self._paused:
            return LOOP_SECONDS
        left = self._paused_at + MAX_PAUSE_SECONDS - time.monotonic()
        return min(LOOP_SECONDS, max(0.0, left))

    def _resume(self) -> None:
        if not self._paused:
            return  # the common case, checked without the lock; _pause() sets it under the lock
        with self._lock:
            if self._holding or not self.alive:
                return
            for listener, server in self._paused.items():
                self.poller.register(listener, selectors.EVENT_READ, partial(self.accept, server))
            self._paused.clear()

    # --- Reading requests in the loop -----------------------------------------------------

    def _start_reading(self, conn: TConn) -> None:
        conn.deadline = time.monotonic() + self._header_timeout
        self._reading[conn] = self._arrival()
        with self._lock:
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )

    def _arrival(self) -> Arrival:
        # A body over MAX_REQUEST_BYTES is refused (413) without being read: never hold it.
        return Arrival(min(self._held_budget - self._held, self._max_body))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """Read what arrived; hand the request on once it is whole."""
        arrival = self._reading.get(conn)
        if arrival is None:  # a kept-alive connection: its next request begins
            with self._lock:
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # murder_keepalived closed it meanwhile
            conn.deadline = time.monotonic() + self._header_timeout
            arrival = self._reading[conn] = self._arrival()
            arrival.feed(_take_buffered(conn))  # the start of a pipelined request, if any
        try:
            chunk = client.recv(READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client left before sending a whole request
            self._drop(conn)
            return
        had_head = arrival.head_complete
        arrival.feed(chunk)
        refusal = None if had_head else arrival.refusal
        if refusal is not None:
            self._drop(conn, self._refusal_answer(conn, refusal))
            return
        if arrival.head_complete and not had_head:
            self._held += arrival.held_bytes
            conn.deadline = time.monotonic() + self._body_timeout
        if arrival.whole:
            self._dispatch(conn)

    def _dispatch(self, conn: TConn) -> None:
        arrival = self._reading.pop(conn)
        self._held -= arrival.held_bytes
        with self._lock:
            self.poller.unregister(conn.sock)
        if not conn.initialized and self._fresh:
            self._fresh.popleft()  # its first request is in: no longer a fresh connection
        if conn.parser is None:
            conn.parser = RequestParser(self.cfg, DeadlineSocket(conn), conn.client)
        conn.parser.unreader.unread(bytes(arrival.data))
        conn.arrived = time.monotonic()
        conn.timed_out = False
        if arrival.probe:
            conn.init()
            conn.sock.settimeout(SEND_TIMEOUT_SECONDS)
            answered: Future[tuple[bool, TConn]] = Future()
            answered.set_result(self.handle(conn))
            self._wrap_future(answered, conn)
        else:
            self.enqueue_req(conn)
        self._resume_unless_busy()

    def _drop(self, conn: TConn, answer: bytes = b"") -> None:
        arrival = self._reading.pop(conn)
        if arrival.head_complete:
            self._held -= arrival.held_bytes
        with self._lock:
            self.poller.unregister(conn.sock)
        self._close(conn, answer)

    def _close(self, conn: TConn, answer: bytes = b"") -> None:
        """Send `answer` if any (best effort: the client may be gone) and close; pool threads
        and the loop both count connections."""
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.sendall(answer)
        with self._lock:
            self.nr_conns -= 1
        conn.close()

    def _drop_late(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self._reading if c.deadline < now]:
            self._drop(conn, REQUEST_TIMEOUT if self._reading[conn].data else b"")

    # --- Running requests -----------------------------------------------------------------

    def enqueue_req(self, conn: TConn) -> None:
        """Hand a whole request to the thread pool."""
        conn.init()
        conn.sock.settimeout(SEND_TIMEOUT_SECONDS)
        self._wrap_future(self.tpool.submit(self.handle, conn), conn)

    def handle(self, conn: TConn) -> tuple[bool, TConn]:
        """Run one request (in a pool thread, or the loop for probes); read what the app left
        of its body, so that what follows in the connection is the next request's bytes."""
        note_arrival(conn.arrived)
        keepalive, conn = super().handle(conn)
        if keepalive and conn.timed_out:
            return False, conn
        if keepalive:
            try:
                body = conn.parser.mesg.body
                while body.read(READ_SIZE):
                    pass
            except OSError:
                return False, conn
        return keepalive, conn

    def finish_request(self, fs: "Future[Any]") -> None:
        """A request finished: a kept-alive connection goes back to the loop; poll again.

        Unlike gthread, also while leaving: the response promised keep-alive, so the client may
        be sending its next request already; the linger serves it, with `Connection: close`.
        """
        conn = fs.conn  # type: ignore[attr-defined]  # gthread._wrap_future sets it
        try:
            keepalive = not fs.cancelled() and fs.result()[0]
        except Exception:  # the request failed past the point of answering: close
            keepalive = False
        pipelined = self._pipelined(conn) if keepalive else None
        refusal = pipelined.refusal if pipelined is not None else None
        if refusal is not None:  # what follows cannot become a request: answer it at once
            self._close(conn, self._refusal_answer(conn, refusal))
        elif pipelined is not None and pipelined.whole:
            # It queues for a thread like any new request, so a client's pipeline holds none.
            conn.arrived = time.monotonic()
            conn.deadline = conn.arrived + self._body_timeout
            self.enqueue_req(conn)
        elif keepalive:
            conn.sock.setblocking(False)
            conn.set_timeout()
            with self._lock:
                self._keep.append(conn)
                self.poller.register(
                    conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
                )
        else:
            self._close(conn)
        self._resume()

    def _pipelined(self, conn: TConn) -> Arrival | None:
        """What the client sent behind its last request, if anything, back in the parser."""
        buffered = _take_buffered(conn)
        if not buffered:
            return None
        arrival = Arrival(self._max_body)
        arrival.feed(buffered)
        conn.parser.unreader.unread(bytes(arrival.data))  # without the empty lines before it
        return arrival

    def _refusal_answer(self, conn: TConn, refusal: str) -> bytes:
        self.log.warning("invalid request from %s: %s", (conn.client or ("",))[0], refusal)
        return json_response(400, "Bad Request", f"malformed HTTP request: {refusal}")

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        """Malformed HTTP is a 400 (431 for huge headers) with a JSON body; the rest a 500."""
        if isinstance(exc, LimitRequestHeaders):
            status, reason, message = 431, "Request Header Fields Too Large", str(exc)
        elif isinstance(exc, MALFORMED_HTTP):
            status, reason, message = 400, "Bad Request", f"malformed HTTP request: {exc}"
        else:
            self.log.exception("error handling request")
            status, reason, message = 500, "Internal Server Error", "internal error"
        if status < 500:
            self.log.warning("invalid request from %s: %s", (addr or ("",))[0], exc)
        with contextlib.suppress(OSError):
            client.sendall(json_response(status, reason, message))

    # --- The loop -------------------------------------------------------------------------

    def murder_keepalived(self) -> None:
        """Gunicorn's once-per-loop housekeeping, plus: close connections too slow to send
        their request, recycle after max_requests, resume once fresh connections expired."""
        super().murder_keepalived()
        self._drop_late()
        if self.nr >= self._recycle_after and not self._recycling:
            self._recycle()
        self._resume_unless_busy()

    def _recycle(self) -> None:
        if not self._balancing:
            self._recycling = True
            self.log.info("asking for a successor after %s requests", self.nr)
            os.kill(self.ppid, signal.SIGTTIN)
            return
        # One worker at a time: while a sibling's replacement loads its model this one serves
        # on, or the pod would have no worker taking connections (checked once a second).
        now = time.monotonic()
        if now - self._recycle_checked < 1:
            return
        self._recycle_checked = now
        if self._metrics.loaded_workers() < self.cfg.workers:
            return
        self._recycling = True
        self.log.info("recycling worker after %s requests", self.nr)
        self.alive = False

    def run(self) -> None:
        """gthread's loop (polling every LOOP_SECONDS), then the linger before leaving."""
        for sock in self.sockets:
            sock.setblocking(False)
            server = sock.getsockname()
            self.poller.register(sock, selectors.EVENT_READ, partial(self.accept, server))
        while self.alive:
            self.notify()
            self._loop_once()
            if not self.is_parent_alive():
                break
        self._linger()
        self.tpool.shutdown(False)
        self.poller.close()

    def _loop_once(self) -> None:
        if self.nr_conns < self.worker_connections:
            for key, _ in self.poller.select(self._select_timeout()):
                key.data(key.fileobj)
        self._reap(LOOP_SECONDS if self.nr_conns >= self.worker_connections else 0)
        self.murder_keepalived()

    def _reap(self, timeout: float) -> None:
        done = futures.wait(self.futures, timeout=timeout, return_when=futures.FIRST_COMPLETED)
        for future in done.done:
            self.futures.remove(future)

    def _linger(self) -> None:
        """Stop accepting; serve what kept-alive connections send for LINGER_SECONDS (with
        `Connection: close`) and what is in progress, up to the graceful timeout."""
        with self._lock:
            for sock in self.sockets:
                if sock not in self._paused:
                    self.poller.unregister(sock)
            self._paused.clear()
        for sock in self.sockets:
            sock.close()
        began = time.monotonic()
        graceful = began + self.cfg.graceful_timeout
        # nr_conns, not the futures: a finished request's connection joins _keep only after its
        # future is done (finish_request runs after the waiters wake), and must not be missed.
        while time.monotonic() < graceful and self.nr_conns > 0:
            if time.monotonic() - began > LINGER_SECONDS and self.nr_conns == len(self._keep):
                break  # only idle kept-alive connections left
            self.notify()
            for key, _ in self.poller.select(LOOP_SECONDS / 5):
                key.data(key.fileobj)
            self._reap(0)
            super().murder_keepalived()
            self._drop_late()
        for conn in list(self._keep):
            conn.close()
