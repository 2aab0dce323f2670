"""Training's preprocessing (also the SavedModel's `serving_default`) and the service's give the
same float32 pixels for the same JPEG or PNG bytes: no skew between training and serving."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from service.imaging import preprocess as service_preprocess
from training.input_pipeline import preprocess as training_preprocess

pytestmark = pytest.mark.training
SIZE = 224


def photo_like(width: int, height: int, mode: str) -> Image.Image:
    """Smooth gradients with sharp edges and noise: what JPEG's IDCT and upsampling act on."""
    rng = np.random.default_rng(width * 7 + height)
    y, x = np.mgrid[0:height, 0:width]
    channels = [(x * 3 + y) % 256, (x ^ y) % 256, 128 + 100 * np.sin(x / 9.0) * np.cos(y / 7.0)]
    pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    return image if mode == "RGB" else image.convert(mode)


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


CASES = {
    **{
        f"jpeg-q{quality}-subsampling{subsampling}": ("RGB", "JPEG", quality, subsampling)
        for quality in (50, 90, 100)
        for subsampling in (0, 1, 2)
    },
    "jpeg-progressive": ("RGB", "JPEG", 85, 2),
    "jpeg-grayscale": ("L", "JPEG", 90, 0),
    "png-rgb": ("RGB", "PNG", None, None),
    "png-grayscale": ("L", "PNG", None, None),
    "png-rgba": ("RGBA", "PNG", None, None),
    "png-palette": ("P", "PNG", None, None),
}


@pytest.mark.parametrize(("mode", "kind", "quality", "subsampling"), CASES.values(), ids=CASES)
@pytest.mark.parametrize("size", [(256, 256), (301, 97), (64, 48)], ids=str)
def test_training_and_the_service_preprocess_to_the_same_pixels(
    mode: str, kind: str, quality: int | None, subsampling: int | None, size: tuple[int, int]
) -> None:
    options: dict[str, object] = {}
    if kind == "JPEG":
        options = {"quality": quality, "subsampling": subsampling}
        options["progressive"] = CASES["jpeg-progressive"] == (mode, kind, quality, subsampling)
    data = encoded(photo_like(*size, mode), kind, **options)
    expected = training_preprocess(tf.constant(data), SIZE).numpy()
    np.testing.assert_array_equal(service_preprocess(data, SIZE, SIZE), expected)
