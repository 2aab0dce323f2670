"""The service's preprocessing samples exactly like the SavedModel's in-graph tf.image.resize."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from service.resize import resize_bilinear

pytestmark = pytest.mark.service


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ((256, 256), (224, 224)),
        ((8, 8), (32, 32)),
        ((97, 301), (224, 64)),
        ((1, 1), (224, 224)),
        ((1203, 641), (224, 224)),
    ],
)
def test_resize_matches_tensorflow_bilinear(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    image = np.random.default_rng(7).integers(0, 256, (*source, 3), dtype=np.uint8)
    expected = tf.image.resize(image, target, method="bilinear", antialias=False).numpy()
    resized = resize_bilinear(image, *target)
    assert resized.shape == (*target, 3) and resized.dtype == np.float32
    np.testing.assert_array_equal(resized, expected)


@settings(max_examples=60, deadline=None, database=None)
@given(
    source=st.tuples(st.integers(1, 300), st.integers(1, 300), st.integers(1, 4)),
    target=st.tuples(st.integers(1, 256), st.integers(1, 256)),
    seed=st.integers(0, 2**32 - 1),
)
def test_resize_matches_tensorflow_at_any_sizes(
    source: tuple[int, int, int], target: tuple[int, int], seed: int
) -> None:
    image = np.random.default_rng(seed).integers(0, 256, source, dtype=np.uint8)
    expected = tf.image.resize(image, target, method="bilinear", antialias=False).numpy()
    np.testing.assert_array_equal(resize_bilinear(image, *target), expected)


def test_resize_divides_as_the_service_scales_to_unit_range() -> None:
    image = np.random.default_rng(8).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    expected = tf.image.resize(image, (224, 224), method="bilinear", antialias=False) / 255.0
    np.testing.assert_array_equal(resize_bilinear(image, 224, 224, divisor=255.0), expected)


def test_resize_reads_a_strided_view_as_its_copy() -> None:
    image = np.random.default_rng(9).integers(0, 256, (64, 96, 3), dtype=np.uint8)[::2, 1::3]
    np.testing.assert_array_equal(
        resize_bilinear(image, 50, 40), resize_bilinear(np.ascontiguousarray(image), 50, 40)
    )


@pytest.mark.parametrize(
    "array",
    [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8), np.zeros((0, 4, 3), np.uint8)],
    ids=["float", "two-axes", "no-rows"],
)
def test_resize_refuses_what_the_kernel_cannot_read(array: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        resize_bilinear(array, 2, 2)
