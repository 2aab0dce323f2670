"""Service fixtures on the real local model: the app in-process (most tests) and real gunicorn
servers (the tests of what only a server process shows), each made once per session."""

import contextlib
import io
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from envconfig import REPO_ROOT
from modelartifact import METADATA_FILE, SIGNATURE_FILE
from ops.bench.metrics_text import sample
from ops.bench.server import Server, start_server
from service.app import create_app, runtime_of
from service.settings import Settings

DIGITS = REPO_ROOT / "data" / "digits"
TOKEN = "s3cret-token-0123456789abcdef-0123456789"
READY_TIMEOUT = 60
PNG = {"Content-Type": "image/png"}


@pytest.fixture(scope="session")
def model_base(local_model: Path) -> Path:
    """MODEL_BASE_PATH for the local model: models/local (holding image-classifier/<version>/)."""
    return local_model.parent.parent


@contextlib.contextmanager
def served(model_base: Path, log: Path, **variables: str) -> Iterator[Server]:
    """A gunicorn server with `variables` (one worker unless they say otherwise), every worker
    ready; stopped on exit, come what may."""
    variables = {"GUNICORN_WORKERS": "1", **variables}
    with start_server(model_base, log, **variables) as server:
        metrics_port = variables.get("METRICS_PORT")
        metrics = f"http://127.0.0.1:{metrics_port}/metrics" if metrics_port else None
        wait_until_every_worker_is_ready(server, metrics)
        yield server


def workers_with_a_model(server: Server, metrics_url: str | None = None) -> float:
    """How many workers have their model loaded: each reports one model_info series of 1."""
    metrics = requests.get(metrics_url or server.url + "/metrics", timeout=10).text
    return sample(metrics, "inference_model_info")


def wait_until_every_worker_is_ready(server: Server, metrics_url: str | None = None) -> None:
    """Poll until all workers have their model (a probe reaches only one of them)."""
    server.wait_until("/v2/health/ready", 200, READY_TIMEOUT)
    deadline = time.monotonic() + READY_TIMEOUT
    while workers_with_a_model(server, metrics_url) < len(server.worker_pids()):
        assert time.monotonic() < deadline, f"not every worker ready:\n{server.tail()}"
        time.sleep(0.05)


def unsigned_copy(local_model: Path, base: Path, change: Callable[[dict], None]) -> Path:
    """MODEL_BASE_PATH holding the local model, unsigned, its metadata edited by `change`."""
    version = base / "image-classifier" / local_model.name
    shutil.copytree(local_model, version)
    (version / SIGNATURE_FILE).unlink()
    metadata = json.loads((version / METADATA_FILE).read_text())
    change(metadata)
    (version / METADATA_FILE).write_text(json.dumps(metadata))
    return base


def load_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one error the app's JSON log holds: why its model did not load."""
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [message] = [r["message"] for r in records if r["level"] == "error"]
    return str(message)


def settled_app(settings: Settings) -> Flask:
    """create_app(settings) once its model load has settled (ready or failed), as gunicorn's
    post_worker_init starts it."""
    app = create_app(settings)
    runtime = runtime_of(app)
    runtime.start()
    assert runtime.wait_until_settled(READY_TIMEOUT), f"still loading after {READY_TIMEOUT}s"
    return app


def ready_app(settings: Settings) -> Flask:
    """settled_app(settings), which must be ready."""
    app = settled_app(settings)
    assert runtime_of(app).ready, f"model {runtime_of(app).state.value}: see the log above"
    return app


@pytest.fixture(scope="session")
def app(model_base: Path) -> Flask:
    """The app in this process with its defaults (TensorFlow backend, no auth), model loaded."""
    return ready_app(Settings(model_base_path=model_base))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client for `app`: requests without a server or a socket."""
    return app.test_client()


@pytest.fixture(scope="session")
def tf_server(model_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service under gunicorn with its defaults: TensorFlow SavedModel backend, no auth."""
    with served(model_base, tmp_path_factory.mktemp("tf") / "gunicorn.log") as server:
        yield server


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
