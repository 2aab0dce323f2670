"""The tensorflow-bf16 backend: the float model's answers with bfloat16 inference, and the gate
that refuses a version whose recorded bfloat16 accuracy is missing or too far below float32.

Its bfloat16 switch holds for a whole process, so it serves bfloat16 only under gunicorn here;
the in-process apps below are refused before the switch, or run on a CPU made to lack bfloat16.
"""

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from service.app import runtime_of
from service.cpu import bf16_flags
from service.settings import Backend, Settings
from tests.service.conftest import (
    Reference,
    load_error,
    ready_app,
    served,
    settled_app,
    unsigned_copy,
)

pytestmark = [pytest.mark.service, pytest.mark.realtime]
PREDICT = "/v1/models/image-classifier:predict"


def instances(images: list[bytes]) -> dict[str, list[dict[str, str]]]:
    """A TF-Serving predict body of encoded images."""
    return {"instances": [{"b64": base64.b64encode(image).decode()} for image in images]}


def with_bf16(local_model: Path, base: Path, drop: float | None) -> Path:
    """The local model, unsigned, recording a bfloat16 accuracy `drop` below the float one
    (None: records none, as versions before it did)."""

    def record(metadata: dict) -> None:
        saved_model = metadata["saved_model"]
        del saved_model["bf16_accuracy"]
        if drop is not None:
            saved_model["bf16_accuracy"] = saved_model["accuracy"] - drop

    return unsigned_copy(local_model, base, record)


def test_bf16_answers_the_float_top_class_for_every_digit(
    model_base: Path, tmp_path: Path, digit_images: dict[str, bytes], reference: Reference
) -> None:
    images = list(digit_images.values())
    log = tmp_path / "gunicorn.log"
    with served(model_base, log, MODEL_BACKEND="tensorflow-bf16") as server:
        answer = server.post(PREDICT, json=instances(images))
        metrics = server.get("/metrics").text
        platform = server.get("/v2/models/image-classifier").json()["platform"]
    assert answer.status_code == 200, answer.text
    predictions = np.array(answer.json()["predictions"])
    expected = reference.images(images)
    assert list(predictions.argmax(1)) == list(expected.argmax(1))
    assert 'inference_model_info{backend="tensorflow-bf16",model="image-classifier"' in metrics
    assert platform == "tensorflow_savedmodel"
    if bf16_flags():  # bfloat16 ran: close to the float32 answers, yet not the same
        assert "bfloat16 inference: the CPU runs it natively" in log.read_text()
        np.testing.assert_allclose(predictions, expected, atol=0.02)
        assert not np.allclose(predictions, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("drop", "cause"),
    [
        (None, "records no bfloat16 accuracy (saved_model.bf16_accuracy in metadata.json"),
        (0.006, "loses 0.60 points of test accuracy in bfloat16"),
    ],
)
def test_bf16_refuses_a_version_without_its_accuracy_or_too_far_below_float(
    local_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    drop: float | None,
    cause: str,
) -> None:
    base = with_bf16(local_model, tmp_path, drop)
    app = settled_app(Settings(model_base_path=base, model_backend=Backend.TENSORFLOW_BF16))
    assert not runtime_of(app).ready
    assert app.test_client().get("/v2/health/ready").get_json() == {
        "ready": False,
        "state": "FAILED",
    }
    line = load_error(capsys)
    assert line.startswith(
        "model not loaded, service stays not ready: BackendRefused: MODEL_BACKEND=tensorflow-bf16: "
        f"model 'image-classifier' version {local_model.name} "
    )
    assert cause in line
    assert line.endswith("retrain the model (`make train`) or set MODEL_BACKEND=tensorflow")


@pytest.mark.parametrize("backend", [Backend.TENSORFLOW, Backend.LITERT])
def test_a_version_without_bf16_accuracy_still_loads_with_the_other_backends(
    local_model: Path, tmp_path: Path, backend: Backend
) -> None:
    base = with_bf16(local_model, tmp_path, None)
    assert runtime_of(ready_app(Settings(model_base_path=base, model_backend=backend))).ready


def test_within_half_a_point_it_loads_and_a_cpu_without_bf16_gets_float32(
    local_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    digit_images: dict[str, bytes],
    reference: Reference,
) -> None:
    monkeypatch.setattr("service.backends.bf16_flags", list)  # no native bfloat16 flag
    base = with_bf16(local_model, tmp_path, 0.004)
    app = ready_app(Settings(model_base_path=base, model_backend=Backend.TENSORFLOW_BF16))
    images = list(digit_images.values())
    answer = app.test_client().post(PREDICT, json=instances(images))
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(
        answer.get_json()["predictions"], reference.images(images), atol=1e-5
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [warning] = [r["message"] for r in records if r["level"] == "warning"]
    assert warning.startswith("this CPU has no native bfloat16")
    assert "serving in float32" in warning
