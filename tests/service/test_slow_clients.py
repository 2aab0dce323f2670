"""Slow, silent and malformed clients against real gunicorn: they cannot starve the request
threads, liveness answers within a second meanwhile, and each gets a JSON 4xx or is closed."""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings

from ops.bench.hostile import (
    MALFORMED_HTTP,
    answer_to,
    connect,
    pipelined_labels,
    raw_predict,
    reply,
    slow_body,
    slow_headers,
    tls_client_hello,
    top_labels,
    worst_liveness_seconds,
)
from ops.bench.server import Server
from tests.service.conftest import PNG, served
from tests.service.hostile_values import not_http_starts

pytestmark = [pytest.mark.service, pytest.mark.realtime]
THREADS = 2  # few request threads: two blocked ones would starve the worker
SLOW_CLIENTS = 24
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 3


# Two workers balance new connections between them (service/worker.py): slow clients must not
# stall that either.
@pytest.fixture(scope="module", params=["1", "2"], ids=["1-worker", "2-workers"])
def server(
    model_base: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    with served(
        model_base,
        tmp_path_factory.mktemp("slow") / "gunicorn.log",
        GUNICORN_WORKERS=request.param,
        MODEL_BACKEND="litert",
        GUNICORN_THREADS=str(THREADS),
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
    ) as running:
        yield running


def assert_served_meanwhile(server: Server, image: bytes) -> None:
    """Liveness within a second and a prediction, while the slow clients hold connections."""
    assert worst_liveness_seconds(server.url) < 1.0
    began = time.monotonic()
    assert server.post("/predict", data=image, headers=PNG, timeout=5).status_code == 200
    assert time.monotonic() - began < 1.0


def test_slowloris_headers_starve_nothing_and_get_408(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    slow = slow_headers(server.url, SLOW_CLIENTS)
    assert_served_meanwhile(server, digit_images["2"])
    answers = slow.replies()
    assert all(a.startswith(b"HTTP/1.1 408") and a.endswith(b'"}') for a in answers), answers[0]


def test_slow_bodies_starve_nothing_and_get_408(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    slow = slow_body(server.url, SLOW_CLIENTS, digit_images["4"])
    assert_served_meanwhile(server, digit_images["2"])
    answers = slow.replies()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[0]


def test_slow_chunked_bodies_are_cut_off_at_the_body_deadline(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    # Chunked bodies are read by a request thread, under the same deadline.
    began = time.monotonic()
    answer = answer_to(
        server.url,
        b"POST /predict HTTP/1.1\r\nHost: slow\r\nContent-Type: image/png\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc",
    )
    assert answer.startswith(b"HTTP/1.1 408") and b"not received in time" in answer
    assert time.monotonic() - began < BODY_TIMEOUT + 2


def test_silent_connections_are_closed_after_the_header_timeout(server: Server) -> None:
    began = time.monotonic()
    silent = [connect(server.url) for _ in range(SLOW_CLIENTS)]
    assert worst_liveness_seconds(server.url) < 1.0
    assert [reply(connection) for connection in silent] == [b""] * SLOW_CLIENTS
    assert time.monotonic() - began < HEADER_TIMEOUT + 2
    for connection in silent:
        connection.close()


def test_pipelined_requests_are_all_answered_in_order(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    statuses, labels = pipelined_labels(server.url, digit_images["3"], digit_images["7"])
    assert statuses == [b"200"] * 5 and labels == [b"3", b"7"]


def test_a_pipelined_request_cut_in_two_is_answered_when_its_rest_arrives(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    second = raw_predict(digit_images["7"], close=True)
    cut = second.index(b"\r\n\r\n") + 14  # its whole head and a little of its body
    with connect(server.url) as connection:
        connection.sendall(raw_predict(digit_images["3"]) + second[:cut])
        time.sleep(0.5)  # the first is answered meanwhile
        connection.sendall(second[cut:])
        answer = reply(connection)
    assert top_labels(answer) == [b"3", b"7"], answer


@pytest.mark.parametrize("request_bytes", MALFORMED_HTTP.values(), ids=MALFORMED_HTTP.keys())
def test_malformed_http_is_a_json_client_error(server: Server, request_bytes: bytes) -> None:
    answer = answer_to(server.url, request_bytes)
    assert 400 <= int(answer[9:12]) < 500, answer
    assert b"Content-Type: application/json" in answer and answer.rstrip().endswith(b"}"), answer


def test_a_tls_client_on_the_plain_http_port_fails_at_once(server: Server) -> None:
    # Refused at its ClientHello, not after the header timeout: the client's TLS layer reads
    # the JSON 400 as a TLS record and fails, well before its read timeout.
    assert answer_to(server.url, tls_client_hello(), timeout=HEADER_TIMEOUT / 2).startswith(
        b"HTTP/1.1 400 "
    )
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(
            server.url.replace("http://", "https://") + "/v2/health/live",
            timeout=HEADER_TIMEOUT / 2,
        )


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(start=not_http_starts())
def test_bytes_no_request_can_begin_with_get_a_json_400_at_once(
    server: Server, start: bytes
) -> None:
    answer = answer_to(server.url, start, timeout=HEADER_TIMEOUT / 2)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"Content-Type: application/json" in answer and answer.rstrip().endswith(b"}"), answer


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(start=not_http_starts())
def test_bytes_no_request_can_begin_with_behind_a_request_get_a_json_400_at_once(
    server: Server, start: bytes
) -> None:
    live = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = answer_to(server.url, live + start, timeout=HEADER_TIMEOUT / 2)
    assert re.findall(rb"^HTTP/1.1 (\d{3})", answers, re.M) == [b"200", b"400"], answers
    assert answers.rstrip().endswith(b"}"), answers


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v2/health/live HTTP/1.1\nHost: x\n\n",
        b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\n",
    ],
    ids=["bare-lf", "last-line-bare-lf"],
)
def test_a_head_with_bare_line_feeds_gets_a_json_400_at_once(server: Server, head: bytes) -> None:
    answer = answer_to(server.url, head, timeout=HEADER_TIMEOUT / 2)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"bare LF" in answer, answer


def test_empty_lines_before_a_request_are_ignored(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    live = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    for empty_lines in (b"\r\n", b"\r\n\r\n", b"\n"):
        assert answer_to(server.url, empty_lines + live).startswith(b"HTTP/1.1 200 ")
    # Some clients end a body with an extra CRLF, before their next request.
    answers = answer_to(server.url, raw_predict(digit_images["3"]) + b"\r\n" + live)
    assert re.findall(rb"^HTTP/1.1 (\d{3})", answers, re.M) == [b"200", b"200"], answers
    assert top_labels(answers) == [b"3"]


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v2/health/live HTTP/1.1\r\nHost: localhost:8080\r\n",
        b"GET /v2/health/live HTTP/1.1\r\nHost: [::1]:8080\r\n",
        b"GET /v2/health/live HTTP/1.1\r\nHost: 10.0.0.7\r\n",
        b"GET /v2/health/live HTTP/1.0\r\n",
    ],
    ids=["name-port", "ipv6", "ipv4", "http-1.0-without"],
)
def test_valid_hosts_and_http_1_0_without_one_are_served(server: Server, head: bytes) -> None:
    answer = answer_to(server.url, head + b"Connection: close\r\n\r\n")
    assert answer.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")), answer


def test_requests_keep_working_on_a_kept_alive_connection(
    server: Server, digit_images: dict[str, bytes]
) -> None:
    with requests.Session() as session:
        # An unread body (refused at once) must not be taken for the next request.
        refused = session.post(
            server.url + "/predict", data=b"x" * 5000, headers={"Content-Type": "text/plain"}
        )
        assert refused.status_code == 415
        for _ in range(3):
            response = session.post(server.url + "/predict", data=digit_images["5"], headers=PNG)
            assert response.status_code == 200
