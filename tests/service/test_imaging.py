"""The service's preprocessing samples exactly like the SavedModel's in-graph tf.image.resize."""

import numpy as np
import pytest
import tensorflow as tf

from service.imaging import resize_bilinear

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
