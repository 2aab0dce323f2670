"""Model backends: run a float32 [N, H, W, 3] batch through the TF SavedModel (float32 or
bfloat16 inference) or the int8 LiteRT file (with LiteRT or OpenVINO)."""

import importlib.util
import logging
import os
from typing import Protocol

import numpy as np

from modelartifact import ACCURACY_TOLERANCE, as_accurate
from modelartifact.openvino import OpenVINOInt8Model
from modelartifact.precision import set_onednn_bfloat16
from modelartifact.quantization import dequantize, quantize
from service.cpu import BF16_FLAGS, bf16_flags
from service.model_store import ModelArtifact
from service.settings import Backend

log = logging.getLogger(__name__)


class BackendRefused(Exception):
    """MODEL_BACKEND cannot serve this model version; the message says why and what to do."""


class ModelBackend(Protocol):
    """Anything that turns a float32 image batch into class probabilities."""

    name: str

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 [N, H, W, 3] in [0, 1] -> float32 [N, num_classes]."""
        ...


class TensorFlowBackend:
    """The SavedModel's `serve_tensor` signature; with `bf16`, bfloat16 inference where the CPU
    runs it natively, for a version accurate enough in it."""

    def __init__(self, artifact: ModelArtifact, threads: int, bf16: bool = False) -> None:
        self.name = (Backend.TENSORFLOW_BF16 if bf16 else Backend.TENSORFLOW).value
        if bf16:
            require_bf16_accuracy(artifact)
        # TF's C++ INFO lines would break the one-JSON-object-per-line logs; warnings still show.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        import tensorflow as tf

        # Must run before TF creates its thread pools, i.e. before the first op. A worker loads
        # one model; only a process that builds several apps (tests) finds the pools made.
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:
            log.info(
                "TensorFlow's thread pools already exist in this process; they keep their size",
                extra={"intra_op": tf.config.threading.get_intra_op_parallelism_threads()},
            )
        if bf16:
            _use_bf16_if_native()
        self._tf = tf
        self._loaded = tf.saved_model.load(str(artifact.path))
        self._signature = self._loaded.signatures["serve_tensor"]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch through the graph."""
        outputs = self._signature(inputs=self._tf.constant(batch, dtype=self._tf.float32))
        return np.asarray(outputs["probabilities"].numpy(), dtype=np.float32)


def require_bf16_accuracy(artifact: ModelArtifact) -> None:
    """BackendRefused unless the version's recorded bfloat16 accuracy is within
    ACCURACY_TOLERANCE of its float32 accuracy."""
    _require_accuracy(
        artifact,
        Backend.TENSORFLOW_BF16,
        artifact.bf16_accuracy,
        "saved_model.bf16_accuracy",
        "bfloat16",
        Backend.TENSORFLOW,
    )


def _require_accuracy(
    artifact: ModelArtifact,
    backend: Backend,
    measured: float | None,
    key: str,
    precision: str,
    fallback: Backend,
) -> None:
    version = f"model {artifact.name!r} version {artifact.version}"
    remedy = f"retrain the model (`make train`) or set MODEL_BACKEND={fallback.value}"
    if measured is None:
        raise BackendRefused(
            f"MODEL_BACKEND={backend.value}: {version} records no {precision} accuracy "
            f"({key} in metadata.json; it was trained before that was measured): {remedy}"
        )
    if not as_accurate(measured, artifact.accuracy):
        drop = artifact.accuracy - measured
        raise BackendRefused(
            f"MODEL_BACKEND={backend.value}: {version} loses {drop * 100:.2f} points of test "
            f"accuracy in {precision} ({measured:.2%} against {artifact.accuracy:.2%} in "
            f"float32; at most {ACCURACY_TOLERANCE * 100:.1f} allowed): {remedy}"
        )


def _use_bf16_if_native() -> None:
    # Without native bfloat16, oneDNN emulates it with AVX-512: measured 2.8x slower than
    # float32 on the local model (ONEDNN_MAX_CPU_ISA=AVX512_CORE on this AMX machine), so such
    # a CPU gets the float32 graph instead.
    flags = bf16_flags()
    if not flags:
        log.warning(
            "this CPU has no native bfloat16 (no %s flag in /proc/cpuinfo): serving in float32, "
            "as MODEL_BACKEND=tensorflow does",
            " or ".join(BF16_FLAGS),
        )
        return
    set_onednn_bfloat16(True)
    log.info("bfloat16 inference: the CPU runs it natively", extra={"cpu_flags": flags})


class LiteRTBackend:
    """The full-integer quantized LiteRT model; input and output (de)quantized here."""

    name = "litert"

    def __init__(self, artifact: ModelArtifact, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = artifact.path / artifact.litert_int8_file
        # One interpreter, resized when the batch size changes: measured as fast as one
        # interpreter per size, at a third of the memory for the 224x224 model.
        self._interpreter = Interpreter(str(path), num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._in_scale, self._in_zero = self._input["quantization"]
        self._out_scale, self._out_zero = self._output["quantization"]
        self._batch_size = 0

    def _resize(self, size: int) -> None:
        if size != self._batch_size:
            shape = [size, *self._input["shape_signature"][1:]]
            self._interpreter.resize_tensor_input(self._input["index"], shape, strict=False)
            self._interpreter.allocate_tensors()
            self._batch_size = size

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Quantize, invoke once for the whole batch, dequantize."""
        self._resize(len(batch))
        interpreter = self._interpreter
        quantized = quantize(batch, self._in_scale, self._in_zero, np.int8)
        interpreter.set_tensor(self._input["index"], quantized)
        interpreter.invoke()
        raw = interpreter.get_tensor(self._output["index"])
        return dequantize(raw, self._out_scale, self._out_zero)


class OpenVINOBackend:
    """The same int8 LiteRT file run by OpenVINO, for a version whose OpenVINO accuracy training
    measured within ACCURACY_TOLERANCE of float32."""

    name = Backend.OPENVINO.value

    def __init__(self, artifact: ModelArtifact, threads: int) -> None:
        _require_accuracy(
            artifact,
            Backend.OPENVINO,
            artifact.openvino_int8_accuracy,
            "litert.int8.openvino_accuracy",
            "OpenVINO int8",
            Backend.LITERT,
        )
        if importlib.util.find_spec("openvino") is None:  # the TensorFlow image has none
            raise BackendRefused(
                f"MODEL_BACKEND={self.name}: OpenVINO is not installed in this image; "
                "the slim image has it"
            )
        path = artifact.path / artifact.litert_int8_file
        self._model = OpenVINOInt8Model(path, artifact.int8_output, threads)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """One inference for the whole batch."""
        return self._model.predict(batch)


def load_backend(kind: Backend, artifact: ModelArtifact, threads: int) -> ModelBackend:
    """Build the backend named by MODEL_BACKEND."""
    if kind is Backend.LITERT:
        return LiteRTBackend(artifact, threads)
    if kind is Backend.OPENVINO:
        return OpenVINOBackend(artifact, threads)
    return TensorFlowBackend(artifact, threads, bf16=kind is Backend.TENSORFLOW_BF16)
