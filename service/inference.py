"""Turn validated client input into model rows and classify them through the runtime."""

import numpy as np

from service.errors import ApiError
from service.imaging import ImageError, preprocess
from service.model_store import ModelArtifact
from service.runtime import ModelRuntime

MAX_IMAGES_PER_REQUEST = 64


def _check_count(count: int) -> None:
    if count == 0:
        raise ApiError(400, "no images in the request: expected at least one")
    if count > MAX_IMAGES_PER_REQUEST:
        raise ApiError(
            400, f"{count} images in one request: at most {MAX_IMAGES_PER_REQUEST} are accepted"
        )


def classify_images(
    runtime: ModelRuntime, artifact: ModelArtifact, images: list[bytes]
) -> np.ndarray:
    """Encoded JPEG/PNG images -> probabilities [n, classes]; bad images are a 400/413."""
    _check_count(len(images))
    with runtime.expecting():
        rows = []
        for index, data in enumerate(images):
            try:
                rows.append(preprocess(data, artifact.height, artifact.width))
            except ImageError as error:
                raise ApiError(error.status, f"image {index}: {error}") from None
        # One image (the usual case) needs no copy: the batcher joins requests anyway.
        return runtime.classify(rows[0][np.newaxis] if len(rows) == 1 else np.stack(rows))


def tensor_rows(values: object, artifact: ModelArtifact) -> np.ndarray:
    """Nested numbers of shape [n, H, W, 3] in [0, 1] as float32, or a 400 saying what is wrong."""
    expected = f"[n, {artifact.height}, {artifact.width}, 3]"
    try:
        array = np.asarray(values)
    except ValueError:
        raise ApiError(
            400, f"tensor is ragged: expected a float array of shape {expected}"
        ) from None
    if array.dtype.kind not in "fiu":
        raise ApiError(400, f"tensor must hold numbers (float32), got {array.dtype.name} values")
    if array.ndim != 4 or array.shape[1:] != (artifact.height, artifact.width, 3):
        raise ApiError(400, f"tensor has shape {list(array.shape)}: expected {expected}")
    rows = array.astype(np.float32)
    if not np.isfinite(rows).all():
        raise ApiError(400, "tensor contains NaN or infinite values")
    if rows.size and (rows.min() < 0 or rows.max() > 1):
        raise ApiError(400, "tensor values must lie in [0, 1] (pixels divided by 255)")
    _check_count(len(rows))
    return rows


def classify_tensor(runtime: ModelRuntime, rows: np.ndarray) -> np.ndarray:
    """Validated float rows -> probabilities [n, classes]."""
    with runtime.expecting():
        return runtime.classify(rows)
