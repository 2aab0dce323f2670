"""One inference backend on preprocessed images: build it, score the held-out split, time it.

Runs in whichever virtualenv holds the backend: the project's for TensorFlow, LiteRT and OpenVINO
on the .tflite file, whose int8 candidates run the service's own (de)quantization and OpenVINO
model class; a pinned one under ~/.cache/image-classifier/bench-peers/ for ONNX Runtime and for
OpenVINO with NNCF, which imports nothing of the project. Inputs are float32 [N, H, W, 3] .npy
files the bench wrote with training's preprocessing.

  build      --model-dir M --calibration C.npy --out DIR   quantize/convert; print the model path
  accuracy   --model PATH --images T.npy --out P.npy         write the probabilities
  throughput --model PATH --images T.npy --batch 16 --seconds S --threads 1 --cpu K
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


def _tensorflow(model: Path, threads: int, bf16: bool) -> Predict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import ai_edge_litert.interpreter  # noqa: F401  (before TensorFlow, see training/__init__.py)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
    if bf16:
        # oneDNN's auto mixed precision: Grappler rewrites the graph's Conv2D/MatMul to bfloat16
        # (AVX512-BF16/AMX on this CPU), keeping softmax and the rest in float32.
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})
    signature = tf.saved_model.load(str(model)).signatures["serve_tensor"]
    return lambda batch: signature(inputs=tf.constant(batch))["probabilities"].numpy()


def _import_project() -> None:
    """Make the project importable: this script runs from its own directory."""
    root = str(Path(__file__).resolve().parents[3])
    if root not in sys.path:
        sys.path.insert(0, root)


def _litert(model: Path, threads: int) -> Predict:
    from ai_edge_litert.interpreter import Interpreter

    _import_project()
    from modelartifact.quantization import dequantize, quantize

    interpreter = Interpreter(str(model), num_threads=threads)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    (in_scale, in_zero), (out_scale, out_zero) = source["quantization"], target["quantization"]
    sizes: list[int] = []

    def predict(batch: np.ndarray) -> np.ndarray:
        if sizes != [len(batch)]:
            interpreter.resize_tensor_input(source["index"], list(batch.shape))
            interpreter.allocate_tensors()
            sizes[:] = [len(batch)]
        interpreter.set_tensor(source["index"], quantize(batch, in_scale, in_zero, np.int8))
        interpreter.invoke()
        return dequantize(interpreter.get_tensor(target["index"]), out_scale, out_zero)

    return predict


def _openvino_tflite(model: Path, threads: int) -> Predict:
    from ai_edge_litert.interpreter import Interpreter

    _import_project()
    from modelartifact.openvino import OpenVINOInt8Model
    from modelartifact.quantization import Quantization

    # LiteRT only reads the file's output quantization; OpenVINO runs it, as the service does.
    output = Interpreter(str(model)).get_output_details()[0]
    return OpenVINOInt8Model(model, Quantization(*output["quantization"]), threads).predict


def _onnxruntime(model: Path, threads: int) -> Predict:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def _openvino(model: Path, threads: int) -> Predict:
    import openvino as ov

    compiled = ov.Core().compile_model(
        str(model), "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    )
    request = compiled.create_infer_request()
    return lambda batch: np.asarray(request.infer([batch])[0])


def load(kind: str, model: Path, threads: int) -> Predict:
    """The named backend's predict function over float32 batches."""
    if kind in ("tf-float", "tf-bf16"):
        return _tensorflow(model, threads, bf16=kind == "tf-bf16")
    if kind == "litert-int8":
        return _litert(model, threads)
    if kind == "openvino-tflite-int8":
        return _openvino_tflite(model, threads)
    if kind == "onnxruntime-int8":
        return _onnxruntime(model, threads)
    if kind == "openvino-int8":
        return _openvino(model, threads)
    raise SystemExit(f"unknown backend {kind!r}")


def _onnx_float(model_dir: Path, out: Path) -> Path:
    """The SavedModel's serve_tensor signature as ONNX (tf2onnx, opset 17)."""
    path = out / "model_float.onnx"
    if not path.is_file():
        command = [
            sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(model_dir),
            "--signature_def", "serve_tensor", "--opset", "17", "--output", str(path),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)
    return path


def build(kind: str, model_dir: Path, calibration: np.ndarray, out: Path) -> Path:
    """The backend's model file, quantized with `calibration` where it is int8."""
    out.mkdir(parents=True, exist_ok=True)
    if kind in ("tf-float", "tf-bf16"):
        return model_dir
    if kind in ("litert-int8", "openvino-tflite-int8"):
        return model_dir / "model_int8.tflite"
    if kind == "onnxruntime-int8":
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )

        source = _onnx_float(model_dir, out)
        name = _input_name(source)

        class Reader(CalibrationDataReader):  # type: ignore[misc]
            def __init__(self) -> None:
                self._rows = iter(calibration)

            def get_next(self) -> dict[str, np.ndarray] | None:
                row = next(self._rows, None)
                return None if row is None else {name: row[None]}

        target = out / "model_int8.onnx"
        quantize_static(
            str(source), str(target), Reader(), quant_format=QuantFormat.QDQ,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip
        return target
    if kind == "openvino-int8":
        import nncf
        import openvino as ov

        source = out / "model_float.onnx"  # written by the onnxruntime-int8 build
        quantized = nncf.quantize(
            ov.convert_model(str(source)),
            nncf.Dataset(list(calibration), lambda row: row[None]),
            subset_size=len(calibration),
        )
        target = out / "model_int8.xml"
        ov.save_model(quantized, str(target))
        return target
    raise SystemExit(f"unknown backend {kind!r}")


def _input_name(onnx_model: Path) -> str:
    import onnx

    return str(onnx.load(str(onnx_model)).graph.input[0].name)


def main() -> None:
    """Dispatch one of build / accuracy / throughput; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["build", "accuracy", "throughput"])
    parser.add_argument("--backend", required=True)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu", type=int)
    args = parser.parse_args()
    if args.action == "build":
        path = build(args.backend, args.model_dir, np.load(args.calibration), args.out)
        print(json.dumps({"model": str(path)}))
        return
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # as the service pins its workers
    predict = load(args.backend, args.model, args.threads)
    images = np.load(args.images)
    if args.action == "accuracy":
        rows = [predict(images[i : i + args.batch]) for i in range(0, len(images), args.batch)]
        np.save(args.out, np.concatenate(rows).astype(np.float32))
        print(json.dumps({"probabilities": str(args.out)}))
        return
    batch = np.resize(images, (args.batch, *images.shape[1:])).astype(np.float32)
    predict(batch)
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < args.seconds:
        predict(batch)
        done += args.batch
    print(json.dumps({"images_per_second": done / (time.perf_counter() - began)}))


if __name__ == "__main__":
    main()
