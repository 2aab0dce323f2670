"""The openvino backend: the int8 LiteRT file run by OpenVINO gives LiteRT's answers, and a
version whose OpenVINO accuracy training did not record (or recorded too low) is refused."""

from pathlib import Path

import numpy as np
import pytest

from service.app import runtime_of
from service.settings import Backend, Settings
from tests.service.conftest import load_error, ready_app, settled_app, unsigned_copy
from tests.service.test_bf16 import PREDICT, instances

pytestmark = [pytest.mark.service, pytest.mark.realtime]


def _predictions(backend: Backend, model_base: Path, images: list[bytes]) -> np.ndarray:
    client = ready_app(Settings(model_base_path=model_base, model_backend=backend)).test_client()
    answer = client.post(PREDICT, json=instances(images))
    assert answer.status_code == 200, answer.text
    return np.array(answer.get_json()["predictions"])


def test_openvino_answers_as_litert_does_on_the_same_int8_file(
    model_base: Path, digit_images: dict[str, bytes]
) -> None:
    images = list(digit_images.values())
    litert = _predictions(Backend.LITERT, model_base, images)
    openvino = _predictions(Backend.OPENVINO, model_base, images)
    # The same integer arithmetic: measured identical on the held-out splits.
    np.testing.assert_allclose(openvino, litert, rtol=0, atol=1e-6)


def test_its_platform_and_metrics_name_openvino(model_base: Path) -> None:
    client = ready_app(
        Settings(model_base_path=model_base, model_backend=Backend.OPENVINO)
    ).test_client()
    assert client.get("/v2/models/image-classifier").get_json()["platform"] == "openvino"
    assert 'backend="openvino"' in client.get("/metrics").text


def with_openvino(local_model: Path, base: Path, drop: float | None) -> Path:
    """The local model, unsigned, recording an OpenVINO accuracy `drop` below float32's
    (None: none, as versions before it did)."""

    def record(metadata: dict) -> None:
        int8 = metadata["litert"]["int8"]
        del int8["openvino_accuracy"]
        if drop is not None:
            int8["openvino_accuracy"] = metadata["saved_model"]["accuracy"] - drop

    return unsigned_copy(local_model, base, record)


@pytest.mark.parametrize(
    ("drop", "cause"),
    [
        (None, "records no OpenVINO int8 accuracy (litert.int8.openvino_accuracy in metadata"),
        (0.007, "loses 0.70 points of test accuracy in OpenVINO int8"),
    ],
)
def test_a_version_without_its_openvino_accuracy_or_too_far_below_float_is_refused(
    local_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    drop: float | None,
    cause: str,
) -> None:
    base = with_openvino(local_model, tmp_path, drop)
    app = settled_app(Settings(model_base_path=base, model_backend=Backend.OPENVINO))
    assert not runtime_of(app).ready
    line = load_error(capsys)
    assert line.startswith("model not loaded, service stays not ready: BackendRefused: ")
    assert cause in line
    assert line.endswith("retrain the model (`make train`) or set MODEL_BACKEND=litert")
    litert = ready_app(Settings(model_base_path=base, model_backend=Backend.LITERT))
    assert runtime_of(litert).ready  # the same file still serves with LiteRT
