"""Slow, silent and malformed clients against real gunicorn: they cannot starve the request
threads, liveness answers within a second meanwhile, and each gets a JSON 4xx or is closed."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.server import Server
from tests.service.conftest import served

pytestmark = pytest.mark.service
THREADS = 2  # few request threads: two blocked ones would starve the worker
SLOW_CLIENTS = 24
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 3
PNG = {"Content-Type": "image/png"}


@pytest.fixture(scope="module")
def server(model_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served(
        model_base,
        tmp_path_factory.mktemp("slow") / "gunicorn.log",
        MODEL_BACKEND="litert",
        GUNICORN_THREADS=str(THREADS),
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
    ) as running:
        yield running


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def reply(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


class Trickle:
    """Connections that send `head`, then one more byte of `rest` every `interval` seconds."""

    def __init__(self, server: Server, head: bytes, rest: bytes, interval: float = 0.5) -> None:
        self.connections = [connect(server) for _ in range(SLOW_CLIENTS)]
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
                with contextlib.suppress(OSError):  # the server closed it: the point of the test
                    connection.send(bytes([byte]))

    def replies(self) -> list[bytes]:
        """Stop trickling; what the server answered each connection."""
        self._stop.set()
        self._thread.join()
        answers = [reply(connection) for connection in self.connections]
        for connection in self.connections:
            connection.close()
        return answers


def worst_liveness_seconds(server: Server, probes: int = 8) -> float:
    worst = 0.0
    for _ in range(probes):
        began = time.monotonic()
        assert server.get("/v2/health/live", timeout=5).status_code == 200
        worst = max(worst, time.monotonic() - began)
    return worst


def assert_served_meanwhile(server: Server, image: bytes) -> None:
    """Liveness within a second and a prediction, while the slow clients hold connections."""
    assert worst_liveness_seconds(server) < 1.0
    began = time.monotonic()
    assert server.post("/predict", data=image, headers=PNG, timeout=5).status_code == 200
    assert time.monotonic() - began < 1.0


def test_slowloris_headers_starve_nothing_and_get_408(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    slow = Trickle(
        server, b"GET /v2/health/live HTTP/1.1\r\n", b"Host: slow\r\nX-Pad: " + b"a" * 60
    )
    assert_served_meanwhile(server, digit_images["2"])
    answers = slow.replies()
    assert all(a.startswith(b"HTTP/1.1 408") and a.endswith(b'"}') for a in answers), answers[0]


def test_slow_bodies_starve_nothing_and_get_408(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    image = digit_images["4"]
    head = b"POST /predict HTTP/1.1\r\nHost: slow\r\nContent-Type: image/png\r\n"
    slow = Trickle(server, head + f"Content-Length: {len(image)}\r\n\r\n".encode(), image)
    assert_served_meanwhile(server, digit_images["2"])
    answers = slow.replies()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[0]


def test_slow_chunked_bodies_are_cut_off_at_the_body_deadline(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    # Chunked bodies are read by a request thread, under the same deadline.
    began = time.monotonic()
    with connect(server) as connection:
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: slow\r\nContent-Type: image/png\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc"
        )
        answer = reply(connection)
    assert answer.startswith(b"HTTP/1.1 408") and b"not received in time" in answer
    assert time.monotonic() - began < BODY_TIMEOUT + 2


def test_silent_connections_are_closed_after_the_header_timeout(server: Server) -> None:
    began = time.monotonic()
    silent = [connect(server) for _ in range(SLOW_CLIENTS)]
    assert worst_liveness_seconds(server) < 1.0
    assert [reply(connection) for connection in silent] == [b""] * SLOW_CLIENTS
    assert time.monotonic() - began < HEADER_TIMEOUT + 2
    for connection in silent:
        connection.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /v2/health/live HTTP/1.1\r\nBad Header\r\n\r\n",
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /v2/health/live HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
    ],
    ids=["request-line", "version", "header", "two-lengths", "chunk-size", "many-headers"],
)
def test_malformed_http_is_a_json_client_error(server: Server, request_bytes: bytes) -> None:
    with connect(server) as connection:
        connection.sendall(request_bytes)
        answer = reply(connection)
    status = int(answer[9:12])
    assert 400 <= status < 500, answer
    assert b"Content-Type: application/json" in answer and answer.rstrip().endswith(b"}"), answer


def test_requests_keep_working_on_a_kept_alive_connection(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    with requests.Session() as session:
        # An unread body (refused at once) must not be taken for the next request.
        refused = session.post(server.url + "/predict", data=b"x" * 5000)
        assert refused.status_code == 415
        for _ in range(3):
            response = session.post(server.url + "/predict", data=digit_images["5"], headers=PNG)
            assert response.status_code == 200
