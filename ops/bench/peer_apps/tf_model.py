"""The model as every peer serves it: the SavedModel's `serving_default` on encoded images.

Runs inside a peer's own virtualenv (TensorFlow, no project code). The bench passes MODEL_DIR,
PORT, WORKERS, THREADS (intra-op threads per worker, as the service's workers use),
BATCH_MAX_SIZE and BATCH_TIMEOUT_MS (the service's batching settings) in the environment.
"""

import base64
import os

import numpy as np

MODEL_DIR = os.environ["MODEL_DIR"]
PORT = int(os.environ["PORT"])
WORKERS = int(os.environ["WORKERS"])
THREADS = int(os.environ["THREADS"])
BATCH_MAX_SIZE = int(os.environ["BATCH_MAX_SIZE"])
BATCH_TIMEOUT_S = float(os.environ["BATCH_TIMEOUT_MS"]) / 1000
HOST = "127.0.0.1"
MODEL_NAME = "image-classifier"


class Classifier:
    """Loaded in the worker process that calls it (TensorFlow is not fork-safe)."""

    def __init__(self) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, THREADS))
        self._tf = tf
        self._signature = tf.saved_model.load(MODEL_DIR).signatures["serving_default"]

    def __call__(self, images: list[bytes]) -> np.ndarray:
        """Encoded JPEG/PNG images -> float32 [N, classes] probabilities, one graph call."""
        outputs = self._signature(images=self._tf.constant(images, dtype=self._tf.string))
        return np.asarray(outputs["probabilities"].numpy())


def from_b64(text: str) -> bytes:
    """The request's base64 text as the encoded image."""
    return base64.b64decode(text)
