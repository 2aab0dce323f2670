"""LiteRT variants of the exported SavedModel: float16 weights and full-integer int8."""

from pathlib import Path

import numpy as np
import tensorflow as tf

SIGNATURE = "serve_tensor"


def _converter(saved_model_dir: Path) -> tf.lite.TFLiteConverter:
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(saved_model_dir), signature_keys=[SIGNATURE]
    )
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter


def convert_float16(saved_model_dir: Path) -> bytes:
    """float16 weights, float32 input and output."""
    converter = _converter(saved_model_dir)
    converter.target_spec.supported_types = [tf.float16]
    return bytes(converter.convert())


def convert_int8(saved_model_dir: Path, representative: np.ndarray) -> bytes:
    """Every op in int8, int8 input and output, calibrated on `representative` images."""
    converter = _converter(saved_model_dir)
    converter.representative_dataset = lambda: ([image[np.newaxis]] for image in representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())
