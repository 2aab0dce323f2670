"""Run a LiteRT (.tflite) classifier with ai_edge_litert, the runtime the service uses."""

from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from modelartifact.quantization import dequantize, quantize


def _describe(detail: dict[str, Any]) -> dict[str, Any]:
    scale, zero_point = detail["quantization"]
    described: dict[str, Any] = {
        "name": detail["name"],
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": [None if size < 0 else int(size) for size in detail["shape_signature"]],
    }
    if scale:
        described |= {"scale": float(scale), "zero_point": int(zero_point)}
    return described


class LiteRTClassifier:
    """A .tflite model taking images [N, H, W, 3] in [0, 1]; int8 tensors are (de)quantised."""

    def __init__(self, path: Path, num_threads: int | None = None) -> None:
        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = 0

    def describe(self) -> dict[str, Any]:
        """Input and output tensors (dtype, shape, quantisation) for metadata.json."""
        return {"input": _describe(self.input), "output": _describe(self.output)}

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities float32 [N, classes] for float32 images [N, H, W, 3] in [0, 1]."""
        if len(images) != self.batch_size:
            self.interpreter.resize_tensor_input(self.input["index"], images.shape)
            self.interpreter.allocate_tensors()
            self.batch_size = len(images)
        scale, zero_point = self.input["quantization"]
        if scale:
            images = quantize(images, scale, zero_point, self.input["dtype"])
        self.interpreter.set_tensor(
            self.input["index"], images.astype(self.input["dtype"], copy=False)
        )
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self.output["index"])
        scale, zero_point = self.output["quantization"]
        if scale:
            return dequantize(raw, scale, zero_point)
        return raw.astype(np.float32)
