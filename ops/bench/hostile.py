"""Hostile HTTP clients for a running service at a base URL: slow senders, silent connections,
malformed requests, and how long liveness takes meanwhile. Used by the service and image tests.
"""

import contextlib
import re
import socket
import ssl
import threading
import time

import requests

# Malformed requests, each refused for its own reason; the answer must be a JSON 4xx.
MALFORMED_HTTP = {
    "request-line": b"GARBAGE\r\n\r\n",
    "version": b"GET / HTTP/9.9\r\n\r\n",
    "header": b"GET /v2/health/live HTTP/1.1\r\nBad Header\r\n\r\n",
    "two-lengths": (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    ),
    "chunk-size": (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"
    ),
    "many-headers": b"GET /v2/health/live HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
    # The service refuses these itself (service/host.py): RFC 9112 requires one valid Host.
    "no-host": b"GET /v2/health/live HTTP/1.1\r\nConnection: close\r\n\r\n",
    "two-hosts": b"GET /v2/health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    "bad-host": b"GET /v2/health/live HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
}


def connect(url: str, timeout: float = 10) -> socket.socket:
    """A TCP connection to the server at `url` (http://host:port); reads wait `timeout` s."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def reply(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def raw_predict(image: bytes, close: bool = False) -> bytes:
    """A raw POST /predict of a PNG, keeping the connection alive unless `close`."""
    close_header = "Connection: close\r\n" if close else ""
    head = (
        f"POST /predict HTTP/1.1\r\nHost: hostile\r\nContent-Type: image/png\r\n"
        f"Content-Length: {len(image)}\r\n{close_header}\r\n"
    )
    return head.encode() + image


def pipelined_labels(url: str, first: bytes, second: bytes) -> tuple[list[bytes], list[bytes]]:
    """Pipeline a probe, a prediction of `first`, model metadata, a probe and a prediction of
    `second` (closing) on one connection: the answers' status codes and top labels, in order."""
    live = b"GET /v2/health/live HTTP/1.1\r\nHost: hostile\r\n\r\n"
    metadata = b"GET /v2/models/image-classifier HTTP/1.1\r\nHost: hostile\r\n\r\n"
    answer = answer_to(
        url, live + raw_predict(first) + metadata + live + raw_predict(second, close=True)
    )
    statuses = re.findall(rb"^HTTP/1.1 (\d{3})", answer, re.M)
    return statuses, top_labels(answer)


def top_labels(answers: bytes) -> list[bytes]:
    """The best label of each /predict answer in raw response bytes, in order."""
    return re.findall(rb'"predictions":\[\{"label":"([^"]*)"', answers)


def answer_to(url: str, request: bytes, timeout: float = 10) -> bytes:
    """Send raw request bytes on a new connection; the whole answer (TimeoutError if the
    server stays silent for `timeout` seconds)."""
    with connect(url, timeout) as connection:
        connection.sendall(request)
        return reply(connection)


def tls_client_hello() -> bytes:
    """What a TLS client sends first: a real ClientHello, from the standard library's client."""
    outgoing = ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(
        ssl.MemoryBIO(), outgoing, server_hostname="localhost"
    )
    with contextlib.suppress(ssl.SSLWantReadError):
        client.do_handshake()
    return outgoing.read()


class Trickle:
    """`clients` connections that send `head`, then one more byte of `rest` every `interval`."""

    def __init__(
        self, url: str, head: bytes, rest: bytes, clients: int, interval: float = 0.5
    ) -> None:
        self.connections = [connect(url) for _ in range(clients)]
        for connection in self.connections:
            connection.sendall(head)
        self._rest, self._interval = rest, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def _send(self) -> None:
        for byte in self._rest:
            if self._stop.wait(self._interval):
                return
            for connection in self.connections:
                with contextlib.suppress(OSError):  # the server closed it: that is the point
                    connection.send(bytes([byte]))

    def replies(self) -> list[bytes]:
        """Stop trickling; what the server answered each connection before closing it."""
        self._stop.set()
        self._thread.join()
        answers = [reply(connection) for connection in self.connections]
        self.close()
        return answers

    def close(self) -> None:
        """Stop trickling and close the connections without waiting for an answer."""
        self._stop.set()
        self._thread.join()
        for connection in self.connections:
            connection.close()


def slow_headers(url: str, clients: int) -> Trickle:
    """Slowloris: a request line, then header bytes one at a time, never the blank line."""
    return Trickle(
        url, b"GET /v2/health/live HTTP/1.1\r\n", b"Host: slow\r\nX-Pad: " + b"a" * 60, clients
    )


def slow_body(url: str, clients: int, image: bytes) -> Trickle:
    """A whole head announcing `image` for /predict, then its bytes one at a time."""
    head = (
        b"POST /predict HTTP/1.1\r\nHost: slow\r\nContent-Type: image/png\r\n"
        + f"Content-Length: {len(image)}\r\n\r\n".encode()
    )
    return Trickle(url, head, image, clients)


def worst_liveness_seconds(url: str, probes: int = 8) -> float:
    """The slowest of `probes` liveness probes, each on a new connection as the kubelet sends
    them; AssertionError if one is not a 200."""
    worst = 0.0
    for _ in range(probes):
        began = time.monotonic()
        status = requests.get(url + "/v2/health/live", timeout=5).status_code
        assert status == 200, f"liveness answered {status}"
        worst = max(worst, time.monotonic() - began)
    return worst
