"""Hostile clients against the built image run with the chart's pod settings (under podman):
slow senders cannot starve it, malformed and generated hostile input gets a JSON 4xx, and
overload is shed with Retry-After. The same cases run against a local gunicorn in
tests/service; here they prove the image and the chart's settings keep those promises.
"""

from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings

from imagebuild import run
from ops.bench.hostile import (
    MALFORMED_HTTP,
    answer_to,
    pipelined_labels,
    slow_body,
    slow_headers,
    tls_client_hello,
    worst_liveness_seconds,
)
from ops.bench.overload import batch_load, closed_loop_rate, open_loop
from tests.image.client import top_label
from tests.image.conftest import Digits

# The running pod of test_podspec.py, shared rather than started twice.
from tests.image.test_podspec import pod, rendered  # noqa: F401
from tests.service.hostile_values import (
    check_answer,
    hostile_documents,
    not_http_starts,
    server_secrets,
)

pytestmark = pytest.mark.image
SLOW_CLIENTS = 24
# The chart sets no header or body timeout: the service's defaults apply (5 s and 30 s).
HEADER_TIMEOUT = 5


def a_digit(digits: Digits) -> bytes:
    return digits.test[0][0].read_bytes()


def assert_served_meanwhile(url: str, image: bytes) -> None:
    assert worst_liveness_seconds(url) < 1.0
    response = requests.post(
        url + "/predict", data=image, headers={"Content-Type": "image/png"}, timeout=5
    )
    assert response.status_code == 200


def test_slowloris_keeps_liveness_under_a_second(
    pod: run.RunningContainer,  # noqa: F811
    digits: Digits,
) -> None:
    slow = slow_headers(pod.url, SLOW_CLIENTS)
    assert_served_meanwhile(pod.url, a_digit(digits))
    answers = slow.replies()  # after HEADER_TIMEOUT
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[0]


def test_slow_bodies_keep_liveness_under_a_second(
    pod: run.RunningContainer,  # noqa: F811
    digits: Digits,
) -> None:
    slow = slow_body(pod.url, SLOW_CLIENTS, a_digit(digits))
    assert_served_meanwhile(pod.url, a_digit(digits))
    slow.close()  # their 408 comes after the 30 s body timeout


def test_pipelined_requests_are_all_answered_in_order(
    pod: run.RunningContainer,  # noqa: F811
    digits: Digits,
) -> None:
    first, second = (next(path for path, label in digits.test if label == d) for d in "38")
    statuses, labels = pipelined_labels(pod.url, first.read_bytes(), second.read_bytes())
    assert statuses == [b"200"] * 5
    # The same answers as when each is sent on its own.
    assert labels == [top_label(pod.url, first).encode(), top_label(pod.url, second).encode()]


@pytest.mark.parametrize("request_bytes", MALFORMED_HTTP.values(), ids=MALFORMED_HTTP.keys())
def test_malformed_http_is_a_json_client_error(
    pod: run.RunningContainer,  # noqa: F811
    request_bytes: bytes,
) -> None:
    answer = answer_to(pod.url, request_bytes)
    assert 400 <= int(answer[9:12]) < 500, answer
    assert b"Content-Type: application/json" in answer, answer


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(start=not_http_starts())
def test_tls_and_other_bytes_no_request_can_begin_with_get_a_400_at_once(
    pod: run.RunningContainer,  # noqa: F811
    start: bytes,
) -> None:
    for data in (tls_client_hello(), start):
        answer = answer_to(pod.url, data, timeout=HEADER_TIMEOUT / 2)
        assert answer.startswith(b"HTTP/1.1 400 ") and answer.rstrip().endswith(b"}"), answer


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(document=hostile_documents())
def test_generated_hostile_json_gets_no_server_error(
    pod: run.RunningContainer,  # noqa: F811
    local_model: Path,
    document: tuple[str, tuple[Any, ...], bytes],
) -> None:
    path, where, body = document
    response = requests.post(
        pod.url + path, data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    content_type = response.headers.get("Content-Type", "")
    sent = f"POST {path} at {where}: {body[:200]!r}"
    check_answer(
        response.status_code, content_type, response.content, sent, server_secrets(local_model)
    )


def test_four_times_the_saturating_rate_is_shed_with_retry_after(
    pod: run.RunningContainer,  # noqa: F811
    digits: Digits,
) -> None:
    load = batch_load(pod.url, a_digit(digits), 16)  # heavy enough to offer 4x from Python
    saturated = closed_loop_rate(load, 16, 3)
    outcome = open_loop(load, 4 * saturated, 5)
    assert set(outcome.statuses) <= {200, 503}, outcome.summary()
    assert outcome.retry_after_missing == 0, outcome.summary()
    print(f"image: saturation {saturated:.0f}/s; at 4x: {outcome.summary()}")
