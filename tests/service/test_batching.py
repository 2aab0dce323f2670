"""Dynamic batching: concurrent requests share model calls; a full queue answers 503."""

import base64
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench.metrics_text import sample
from bench.server import Server
from tests.service.conftest import TOKEN

pytestmark = pytest.mark.service
PNG = {"Content-Type": "image/png"}


def test_concurrent_burst_is_batched_and_visible_in_metrics(
    tf_server: Server, digit_images: dict[str, bytes]
) -> None:
    before = tf_server.get("/metrics").text
    image = digit_images["8"]
    with ThreadPoolExecutor(32) as pool:
        responses = list(
            pool.map(lambda _: tf_server.post("/predict", data=image, headers=PNG), range(96))
        )
    assert all(r.status_code == 200 for r in responses)
    after = tf_server.get("/metrics").text
    images = sample(after, "inference_batch_size_sum") - sample(before, "inference_batch_size_sum")
    calls = sample(after, "inference_batch_size_count") - sample(
        before, "inference_batch_size_count"
    )
    singles = sample(after, "inference_batch_size_bucket", le="1.0") - sample(
        before, "inference_batch_size_bucket", le="1.0"
    )
    assert images == 96
    assert calls < 96 and singles < calls, f"{calls} model calls, {singles} of one image"
    queued = sample(after, "inference_queue_duration_seconds_count") - sample(
        before, "inference_queue_duration_seconds_count"
    )
    assert queued == 96


def test_full_queue_answers_503_with_retry_after(
    auth_server: Server, digit_images: dict[str, bytes]
) -> None:
    # BATCH_QUEUE_CAPACITY=1 and BATCH_MAX_SIZE=1 on this server: a burst must overflow.
    body = {"instances": [{"b64": base64.b64encode(digit_images["1"]).decode()}] * 64}
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def send(_: int) -> requests.Response:
        return auth_server.post("/v1/models/image-classifier:predict", json=body, headers=headers)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(send, range(48)))
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 503} and statuses == {200, 503}, statuses
    full = next(r for r in responses if r.status_code == 503)
    assert full.headers["Retry-After"] == "1"
    assert "queue is full" in full.json()["error"]
