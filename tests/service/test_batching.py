"""Dynamic batching: concurrent requests share model calls; a full queue answers 503."""

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ops.bench.metrics_text import sample
from service.settings import Backend, Settings
from tests.service.conftest import PNG, ready_app

pytestmark = [pytest.mark.service, pytest.mark.realtime]


def test_concurrent_burst_is_batched_and_visible_in_metrics(
    client: FlaskClient, digit_images: dict[str, bytes]
) -> None:
    before = client.get("/metrics").text
    image = digit_images["8"]
    with ThreadPoolExecutor(32) as pool:
        responses = list(
            pool.map(lambda _: client.post("/predict", data=image, headers=PNG), range(96))
        )
    assert all(r.status_code == 200 for r in responses)
    after = client.get("/metrics").text
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
    model_base: Path, digit_images: dict[str, bytes]
) -> None:
    app = ready_app(
        Settings(
            model_base_path=model_base,
            model_backend=Backend.LITERT,
            batch_queue_capacity=1,
            batch_max_size=1,
        )
    )
    client = app.test_client()
    body = {"instances": [{"b64": base64.b64encode(digit_images["1"]).decode()}] * 64}

    def send(_: int) -> TestResponse:
        return client.post("/v1/models/image-classifier:predict", json=body)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(send, range(48)))
    statuses = {r.status_code for r in responses}
    assert statuses == {200, 503}, statuses
    full = next(r for r in responses if r.status_code == 503)
    assert full.headers["Retry-After"] == "1"
    assert "queue is full" in full.get_json()["error"]
