"""Run a version's int8 LiteRT file with OpenVINO's CPU runtime, through its TFLite frontend.

The same file and the same (de)quantization as the LiteRT interpreter: measured bit-identical
probabilities on the held-out splits of the local and staging models, at twice LiteRT's speed
on a CPU with VNNI/AMX (OpenVINO runs the convolutions and the dense layers as u8 x i8 kernels).
Training measures the accuracy with this class and the service serves with it, so the two agree.
"""

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from modelartifact.quantization import Quantization, dequantize

if TYPE_CHECKING:  # imported where used: the TensorFlow image has no OpenVINO
    import openvino as ov


# Batch sizes compiled with a static shape. OpenVINO's CPU plugin runs a static-shape model
# faster than the dynamic-batch one (measured on one core, ms per image, dynamic -> static:
# 1: 2.02 -> 1.74, 2: 1.59 -> 1.45, 4: 1.49 -> 1.34, 8: 1.39 -> 1.28), but each compiled size
# holds its own activations, about 5 MiB per image: all of 1..16 would add over 600 MiB.
STATIC_BATCH_SIZES = (8, 4, 2, 1)
_LARGEST = STATIC_BATCH_SIZES[0]


def batch_plan(size: int) -> list[int]:
    """The chunks one call of `size` images runs as: whole chunks of the largest static size,
    then the rest in one chunk (static if its size is compiled, else the dynamic model). Three
    images as 2 + 1, for instance, measured no faster than one dynamic call of 3."""
    whole, rest = divmod(size, _LARGEST)
    return [_LARGEST] * whole + ([rest] if rest else [])


class OpenVINOInt8Model:
    """A compiled int8 .tflite model: float32 images [N, H, W, 3] in [0, 1] -> probabilities."""

    def __init__(self, path: Path, target: Quantization, threads: int) -> None:
        import openvino as ov

        core = ov.Core()
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        model = float_input(core.read_model(str(path)))
        # The file's batch dimension is dynamic: that model serves the sizes not compiled.
        self._dynamic = core.compile_model(model, "CPU", config).create_infer_request()
        self._static: dict[int, ov.InferRequest] = {}
        for size in STATIC_BATCH_SIZES:
            fixed = model.clone()
            fixed.reshape([size, *list(model.get_parameters()[0].get_partial_shape())[1:]])
            self._static[size] = core.compile_model(fixed, "CPU", config).create_infer_request()
        self._target = target

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Infer the batch in the chunks of batch_plan (quantized in the graph), dequantize."""
        outputs, start = [], 0
        for size in batch_plan(len(images)):
            request = self._static.get(size, self._dynamic)
            # share_inputs: OpenVINO reads the chunk where it is instead of copying it into its
            # own tensor first (side by side, one core: 1.78 -> 1.62-1.69 ms per image at batch
            # 4); every call passes its own array, so none outlives its call.
            chunk = images[start : start + size]
            outputs.append(np.asarray(request.infer({0: chunk}, share_inputs=True)[0]))
            start += size
        raw = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        return dequantize(raw, self._target.scale, self._target.zero_point)


def float_input(model: "ov.Model") -> "ov.Model":
    """`model` (an ov.Model of an int8 .tflite file) taking float32 images instead of int8.

    The frontend reads the int8 input as Parameter -> Transpose (NHWC to NCHW) -> Convert ->
    FakeQuantize (the 256 integer levels to their real values). This puts one FakeQuantize
    from that same real range to itself in front of the transpose instead: OpenVINO rounds the
    float32 images to the 256 levels in one fused pass and hands u8 to the first convolution,
    as in a graph NNCF writes, about 9 % less time per batch than `quantize()` in front.

    The levels equal `quantize()`'s except at exact half steps, which OpenVINO rounds up and
    numpy to even: measured on 200 held-out staging images (30.1 M values), none differed.
    Training measures the accuracy through this class, so its figure is the served one.
    """
    import openvino as ov
    import openvino.opset13 as ops

    (parameter,) = model.get_parameters()
    if parameter.get_element_type() != ov.Type.i8:
        raise ValueError(f"expected an int8 input, the file has {parameter.get_element_type()}")
    transpose = _only_consumer(parameter.output(0), "Transpose")
    to_real = _only_consumer(
        _only_consumer(transpose.output(0), "Convert").output(0), "FakeQuantize"
    )
    low, high = to_real.input_value(3), to_real.input_value(4)
    if any(math.prod(bound.get_shape()) != 1 for bound in (low, high)):
        raise ValueError("expected a per-tensor int8 input quantization")
    images = ops.parameter(parameter.get_partial_shape(), ov.Type.f32, name="images")
    rounded = ops.fake_quantize(images, low, high, low, high, to_real.get_levels())
    nchw = ops.transpose(rounded, transpose.input_value(1))
    for consumer in list(to_real.output(0).get_target_inputs()):
        consumer.replace_source_output(nchw.output(0))
    return ov.Model(model.get_results(), [images], model.get_friendly_name())


def _only_consumer(output: "ov.Output", kind: str) -> "ov.Node":
    """The one node reading `output`, which must be a `kind` op (the frontend's int8 input)."""
    consumers = [target.get_node() for target in output.get_target_inputs()]
    if len(consumers) != 1 or consumers[0].get_type_name() != kind:
        found = [node.get_type_name() for node in consumers]
        raise ValueError(f"unexpected int8 input graph: expected one {kind}, found {found}")
    return consumers[0]
