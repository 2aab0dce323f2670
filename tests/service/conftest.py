"""Service fixtures: real gunicorn servers on the real local model, started once per session."""

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.server import Server, start_server
from envconfig import REPO_ROOT

DIGITS = REPO_ROOT / "data" / "digits"
TOKEN = "s3cret-token"
READY_TIMEOUT = 60


@pytest.fixture(scope="session")
def model_base(local_model: Path) -> Path:
    """MODEL_BASE_PATH for the local model: models/local (holding image-classifier/<version>/)."""
    return local_model.parent.parent


def _served(model_base: Path, log: Path, **variables: str) -> Iterator[Server]:
    server = start_server(model_base, log, **variables)
    try:
        server.wait_until("/v2/health/ready", 200, READY_TIMEOUT)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tf_server(model_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with its defaults: TensorFlow SavedModel backend, no auth."""
    yield from _served(model_base, tmp_path_factory.mktemp("tf") / "gunicorn.log")


@pytest.fixture(scope="session")
def litert_server(model_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with MODEL_BACKEND=litert (int8 model)."""
    yield from _served(
        model_base, tmp_path_factory.mktemp("litert") / "gunicorn.log", MODEL_BACKEND="litert"
    )


@pytest.fixture(scope="session")
def auth_server(model_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """LiteRT service with bearer auth and a tiny batch queue (to see it fill up)."""
    directory = tmp_path_factory.mktemp("auth")
    token_file = directory / "token"
    token_file.write_text(TOKEN + "\n")
    yield from _served(
        model_base,
        directory / "gunicorn.log",
        MODEL_BACKEND="litert",
        AUTH_TOKEN_FILE=str(token_file),
        BATCH_QUEUE_CAPACITY="1",
        BATCH_MAX_SIZE="1",
    )


@pytest.fixture(scope="session")
def digit_images() -> dict[str, bytes]:
    """One real PNG per class from the training data set, keyed by its label."""
    return {d.name: sorted(d.glob("*.png"))[-1].read_bytes() for d in sorted(DIGITS.iterdir())}


@pytest.fixture(scope="session")
def digit_jpeg(digit_images: dict[str, bytes]) -> bytes:
    """A real digit re-encoded as JPEG."""
    out = io.BytesIO()
    Image.open(io.BytesIO(digit_images["7"])).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture(scope="session")
def reference(local_model: Path) -> "Reference":
    """The SavedModel itself, loaded in the test process, to compare the service against."""
    return Reference(local_model)


class Reference:
    """Expected probabilities straight from the SavedModel's own signatures."""

    def __init__(self, version_dir: Path) -> None:
        import tensorflow as tf

        self._tf = tf
        self._model = tf.saved_model.load(str(version_dir))

    def images(self, encoded: list[bytes]) -> np.ndarray:
        """serving_default: in-graph decode, resize, scale."""
        signature = self._model.signatures["serving_default"]
        result = signature(images=self._tf.constant(encoded, dtype=self._tf.string))
        return np.asarray(result["probabilities"].numpy())

    def tensor(self, rows: np.ndarray) -> np.ndarray:
        """serve_tensor: float32 [n, H, W, 3]."""
        result = self._model.signatures["serve_tensor"](inputs=self._tf.constant(rows))
        return np.asarray(result["probabilities"].numpy())
