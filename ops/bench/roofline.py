"""This machine's measured peak multiply-accumulate throughput for FP32, BF16 and INT8.

`python -m ops.bench.roofline --threads N` prints {"fp32": FLOP/s, "bf16": …, "int8": …,
"methods": {…}} measured with N threads (run in its own process: TensorFlow and LiteRT set
their thread pools once). FP32 and BF16: TensorFlow's oneDNN MatMul on square matrices; INT8:
a LiteRT full-integer fully-connected layer (XNNPACK's int8 GEMM, VNNI on this CPU). Each is
the best of several short trials: other jobs share these cores, and a peak is a maximum.
"""

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Before TensorFlow: whichever of the two loads second aborts (training/__init__.py).
import ai_edge_litert.interpreter as litert
import numpy as np

SIZE = 1024  # square GEMM side: 2.1 GFLOP a call, large enough to run at the kernels' peak
TRIALS = 10


def best_rate(call: Callable[[], object], flops: float, seconds: float) -> float:
    """The best FLOP/s of TRIALS trials of `call` (each `flops`), `seconds` in all."""
    call()
    best = 0.0
    for _ in range(TRIALS):
        done, began = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds / TRIALS or done == 0:
            call()
            done += 1
        best = max(best, done * flops / elapsed)
    return best


def tensorflow_gemm(dtype_name: str, threads: int, seconds: float) -> float:
    """FLOP/s of a SIZE x SIZE x SIZE MatMul in `dtype_name` (float32 or bfloat16)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    dtype = getattr(tf, dtype_name)
    matrix = tf.cast(tf.random.uniform((SIZE, SIZE)), dtype)
    multiply = tf.function(lambda: tf.reduce_sum(tf.matmul(matrix, matrix)))
    return best_rate(lambda: multiply().numpy(), 2 * SIZE**3, seconds)


def litert_int8_gemm(threads: int, seconds: float) -> float:
    """FLOP/s of a full-integer LiteRT Dense layer: [SIZE, SIZE] x [SIZE, SIZE] int8."""
    import tensorflow as tf

    model = tf.keras.Sequential(
        [tf.keras.Input((SIZE,), batch_size=SIZE), tf.keras.layers.Dense(SIZE, use_bias=False)]
    )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.standard_normal((SIZE, SIZE)).astype(np.float32)] for _ in range(4)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = Path(tempfile.mkdtemp(prefix="roofline-")) / "gemm_int8.tflite"
    path.write_bytes(converter.convert())
    interpreter = litert.Interpreter(str(path), num_threads=threads)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    interpreter.set_tensor(source, rng.integers(-128, 127, (SIZE, SIZE), dtype=np.int8))
    return best_rate(interpreter.invoke, 2 * SIZE**3, seconds)


METHODS = {
    "fp32": f"TensorFlow MatMul float32 ({SIZE}x{SIZE}x{SIZE}, oneDNN)",
    "bf16": f"TensorFlow MatMul bfloat16 ({SIZE}x{SIZE}x{SIZE}, oneDNN)",
    "int8": f"LiteRT int8 fully-connected ({SIZE}x{SIZE}x{SIZE}, XNNPACK)",
}


def main() -> None:
    """Print the three peaks as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.roofline", description=__doc__)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=3, help="per precision")
    args = parser.parse_args()
    peaks = {
        "fp32": tensorflow_gemm("float32", args.threads, args.seconds),
        "bf16": tensorflow_gemm("bfloat16", args.threads, args.seconds),
        "int8": litert_int8_gemm(args.threads, args.seconds),
    }
    print(json.dumps({**peaks, "methods": METHODS}))


if __name__ == "__main__":
    main()
