"""Model backends: run a float32 [N, H, W, 3] batch through TF SavedModel or LiteRT int8."""

import os
from typing import TYPE_CHECKING, Protocol

import numpy as np

from service.model_store import ModelArtifact
from service.settings import Backend

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter


class ModelBackend(Protocol):
    """Anything that turns a float32 image batch into class probabilities."""

    name: str

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 [N, H, W, 3] in [0, 1] -> float32 [N, num_classes]."""
        ...

    def warm_up_sizes(self, max_batch: int) -> range | tuple[int, ...]:
        """Batch sizes to run once before readiness so no request pays for first-call setup."""
        ...


class TensorFlowBackend:
    """The SavedModel's `serve_tensor` signature."""

    name = "tensorflow"

    def __init__(self, artifact: ModelArtifact, threads: int) -> None:
        # TF's C++ INFO lines would break the one-JSON-object-per-line logs; warnings still show.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        import tensorflow as tf

        # Must run before TF creates its thread pools, i.e. before the first op.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        self._tf = tf
        self._loaded = tf.saved_model.load(str(artifact.path))
        self._signature = self._loaded.signatures["serve_tensor"]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch through the graph."""
        outputs = self._signature(inputs=self._tf.constant(batch, dtype=self._tf.float32))
        return np.asarray(outputs["probabilities"].numpy(), dtype=np.float32)

    def warm_up_sizes(self, max_batch: int) -> tuple[int, ...]:
        # The signature's batch dimension is dynamic: one trace serves every size, so the
        # smallest and largest batch are enough (at 224x224 each extra size costs ~0.1 s).
        return (1, max_batch)


class LiteRTBackend:
    """The full-integer quantized LiteRT model; input and output (de)quantized here."""

    name = "litert"

    def __init__(self, artifact: ModelArtifact, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._new = Interpreter
        self._path = str(artifact.path / artifact.litert_int8_file)
        self._threads = threads
        # One interpreter per batch size: resizing and re-allocating on every call costs more
        # than the small model's memory.
        self._interpreters: dict[int, Interpreter] = {}
        first = self._interpreter(1)
        self._input = first.get_input_details()[0]
        self._output = first.get_output_details()[0]
        self._in_scale, self._in_zero = self._input["quantization"]
        self._out_scale, self._out_zero = self._output["quantization"]

    def _interpreter(self, size: int) -> "Interpreter":
        if size not in self._interpreters:
            interpreter = self._new(self._path, num_threads=self._threads)
            details = interpreter.get_input_details()[0]
            shape = [size, *details["shape_signature"][1:]]
            interpreter.resize_tensor_input(details["index"], shape, strict=False)
            interpreter.allocate_tensors()
            self._interpreters[size] = interpreter
        return self._interpreters[size]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Quantize, invoke once for the whole batch, dequantize."""
        interpreter = self._interpreter(len(batch))
        info = np.iinfo(np.int8)
        quantized = np.clip(np.round(batch / self._in_scale + self._in_zero), info.min, info.max)
        interpreter.set_tensor(self._input["index"], quantized.astype(np.int8))
        interpreter.invoke()
        raw = interpreter.get_tensor(self._output["index"]).astype(np.float32)
        return (raw - np.float32(self._out_zero)) * np.float32(self._out_scale)

    def warm_up_sizes(self, max_batch: int) -> range:
        # Every size the batcher may form gets its interpreter allocated now.
        return range(1, max_batch + 1)


def load_backend(kind: Backend, artifact: ModelArtifact, threads: int) -> ModelBackend:
    """Build the backend named by MODEL_BACKEND."""
    if kind is Backend.LITERT:
        return LiteRTBackend(artifact, threads)
    return TensorFlowBackend(artifact, threads)
