"""A small synthetic model version, published as training lays one out."""

from pathlib import Path
from typing import Any

from modelartifact import ModelMetadata, file_hashes, write_metadata


def variant(file: str, int8: bool = False) -> dict[str, Any]:
    quantization = {"scale": 1 / 255, "zero_point": -128} if int8 else {}
    dtype = "int8" if int8 else "float32"
    return {
        "file": file,
        "bytes": 1,
        "accuracy": 0.9,
        "signature": "serve_tensor",
        "input": {"name": "images", "dtype": dtype, "shape": [None, 8, 8, 3], **quantization},
        "output": {"name": "probabilities", "dtype": dtype, "shape": [None, 2], **quantization},
    }


def write_files(directory: Path) -> None:
    """The files of a version: a stand-in SavedModel and two LiteRT files."""
    directory.mkdir(parents=True)
    for name in ("saved_model.pb", "model_float16.tflite", "model_int8.tflite"):
        (directory / name).write_bytes(name.encode())


def facts() -> dict[str, Any]:
    """The metadata of those files but `version` and `files`, which publishing stamps in."""
    return {
        "name": "image-classifier",
        "environment": "test",
        "created": "2026-11-30T00:00:00+00:00",
        "classes": ["cat", "dog"],
        "input": {"height": 8, "width": 8, "channels": 3, "preprocessing": "/ 255"},
        "signatures": {},
        "saved_model": {
            "parameters": 10,
            "float32_weights_bytes": 40,
            "accuracy": 0.9,
            "bf16_accuracy": 0.9,
        },
        "litert": {
            "float16": variant("model_float16.tflite"),
            "int8": variant("model_int8.tflite", int8=True) | {"openvino_accuracy": 0.9},
            "pruned": variant("model_float16.tflite"),
        },
        "dataset": {},
        "metrics": {},
        "eval": {},
        "training": {},
    }


def publish(model_dir: Path, directory_name: str, **changes: Any) -> Path:
    """A version directory as training publishes it, with `changes` to its metadata."""
    directory = model_dir / directory_name
    write_files(directory)
    stamped = {**facts(), "version": 1, "files": file_hashes(directory)}
    write_metadata(directory, ModelMetadata.model_validate({**stamped, **changes}))
    return directory
