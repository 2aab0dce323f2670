"""Turn validated client input into model rows and classify them through the runtime.

Every limit is checked before the work it bounds: the image count before any decoding, each
image's declared size and the request's pixel total before any pixel is decoded.
"""

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np
from PIL import Image

from service.errors import ApiError
from service.imaging import ImageError, model_input, open_image
from service.model_store import ModelArtifact
from service.runtime import ModelRuntime

MAX_IMAGES_PER_REQUEST = 64
T = TypeVar("T")


def check_count(count: int) -> None:
    """400 unless a request's image count is within 1..MAX_IMAGES_PER_REQUEST."""
    if count == 0:
        raise ApiError(400, "no images in the request: expected at least one")
    if count > MAX_IMAGES_PER_REQUEST:
        raise ApiError(
            400, f"{count} images in one request: at most {MAX_IMAGES_PER_REQUEST} are accepted"
        )


def _image_step(index: int, step: Callable[[], T]) -> T:
    try:
        return step()
    except ImageError as error:
        raise ApiError(error.status, f"image {index}: {error}") from None


def _rows(index: int, image: Image.Image, artifact: ModelArtifact) -> np.ndarray:
    # Closed at once: a request holds one decoded image at a time, not all of them.
    with image:
        return _image_step(index, partial(model_input, image, artifact.height, artifact.width))


def classify_images(
    runtime: ModelRuntime, artifact: ModelArtifact, images: list[bytes], deadline: float
) -> np.ndarray:
    """Encoded JPEG/PNG images -> probabilities [n, classes]; bad images are a 400/413."""
    check_count(len(images))
    settings = runtime.settings
    opened, pixels = [], 0
    for index, data in enumerate(images):
        image = _image_step(index, partial(open_image, data, settings.max_image_pixels))
        pixels += image.width * image.height
        if pixels > settings.max_request_pixels:
            raise ApiError(
                413,
                f"images 0..{index} hold {pixels} pixels, over the limit of "
                f"{settings.max_request_pixels} per request",
            )
        opened.append(image)
    with runtime.expecting():
        rows = [_rows(index, image, artifact) for index, image in enumerate(opened)]
        # One image (the usual case) needs no copy: the batcher joins requests anyway.
        return runtime.classify(rows[0][np.newaxis] if len(rows) == 1 else np.stack(rows), deadline)


def tensor_rows(values: object, artifact: ModelArtifact) -> np.ndarray:
    """Nested numbers of shape [n, H, W, 3] in [0, 1] as float32, or a 400 saying what is wrong."""
    expected = f"[n, {artifact.height}, {artifact.width}, 3]"
    if isinstance(values, list):
        check_count(len(values))
    try:
        array = np.asarray(values)
    except (ValueError, OverflowError):
        raise ApiError(
            400, f"tensor is ragged or too deep: expected a float array of shape {expected}"
        ) from None
    if array.dtype.kind not in "fiu":
        raise ApiError(400, f"tensor must hold numbers (float32), got {array.dtype.name} values")
    if array.ndim != 4 or array.shape[1:] != (artifact.height, artifact.width, 3):
        raise ApiError(400, f"tensor has shape {list(array.shape)}: expected {expected}")
    check_count(len(array))
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused just below
        rows = array.astype(np.float32)
    if not np.isfinite(rows).all():
        raise ApiError(400, "tensor contains NaN or infinite values")
    if rows.size and (rows.min() < 0 or rows.max() > 1):
        raise ApiError(400, "tensor values must lie in [0, 1] (pixels divided by 255)")
    return rows


def classify_tensor(runtime: ModelRuntime, rows: np.ndarray, deadline: float) -> np.ndarray:
    """Validated float rows -> probabilities [n, classes]."""
    with runtime.expecting():
        return runtime.classify(rows, deadline)
