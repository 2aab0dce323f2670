"""Run a version's int8 LiteRT file with OpenVINO's CPU runtime, through its TFLite frontend.

The same file and the same (de)quantization as the LiteRT interpreter: measured bit-identical
probabilities on the held-out splits of the local and staging models, at twice LiteRT's speed
on a CPU with VNNI/AMX (OpenVINO runs the convolutions and the dense layers as u8 x i8 kernels).
Training measures the accuracy with this class and the service serves with it, so the two agree.
"""

from pathlib import Path

import numpy as np

from modelartifact.quantization import Quantization, dequantize, quantize


class OpenVINOInt8Model:
    """A compiled int8 .tflite model: float32 images [N, H, W, 3] in [0, 1] -> probabilities."""

    def __init__(
        self, path: Path, source: Quantization, target: Quantization, threads: int
    ) -> None:
        import openvino as ov

        core = ov.Core()
        # The file's batch dimension is dynamic: one compiled model serves every batch size.
        compiled = core.compile_model(
            core.read_model(str(path)),
            "CPU",
            {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"},
        )
        self._request = compiled.create_infer_request()
        self._source = source
        self._target = target

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Quantize, infer once for the whole batch, dequantize."""
        quantized = quantize(images, self._source.scale, self._source.zero_point, np.int8)
        raw = np.asarray(self._request.infer([quantized])[0])
        return dequantize(raw, self._target.scale, self._target.zero_point)
