"""int8 (de)quantization, the one definition training's evaluation and the service share."""

import numpy as np
import pytest

from modelartifact.quantization import dequantize, quantize

pytestmark = pytest.mark.unit

# A LiteRT int8 input of images in [0, 1]: scale 1/255, zero point -128.
SCALE, ZERO = 1 / 255, -128


def _reference(values: np.ndarray) -> np.ndarray:
    """The textbook formula, one temporary per step."""
    return np.clip(np.round(values / SCALE + ZERO), -128, 127).astype(np.int8)


def test_quantize_matches_the_formula_on_images_ties_and_out_of_range_values() -> None:
    rng = np.random.default_rng(7)
    images = rng.random((4, 16, 16, 3), dtype=np.float32)
    # Exact half steps round to even; values outside [0, 1] clip to the int8 range.
    ties = ((np.arange(-3, 260, dtype=np.float32) + 0.5) * np.float32(SCALE)).reshape(1, -1)
    outside = np.array([[-5.0, -0.01, 1.01, 7.0, 1e6]], dtype=np.float32)
    for values in (images, ties, outside):
        quantized = quantize(values, SCALE, ZERO, np.int8)
        assert quantized.dtype == np.int8
        np.testing.assert_array_equal(quantized, _reference(values))
    assert quantize(outside, SCALE, ZERO, np.int8).tolist() == [[-128, -128, 127, 127, 127]]


def test_quantize_leaves_its_input_unchanged() -> None:
    values = np.linspace(0, 1, 30, dtype=np.float32)
    before = values.copy()
    quantize(values, SCALE, ZERO, np.int8)
    np.testing.assert_array_equal(values, before)


def test_dequantize_inverts_the_output_scale() -> None:
    raw = np.array([[-128, 0, 127]], dtype=np.int8)
    probabilities = dequantize(raw, 1 / 256, -128)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities, [[0.0, 0.5, 255 / 256]])
