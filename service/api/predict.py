"""POST /predict: one raw or multipart-uploaded image -> top-k labels with probabilities."""

import numpy as np
from flask import Blueprint, Response, jsonify, request

from service.admission import deadline
from service.api.common import reading_body, require_content_type, resolve_model, runtime
from service.errors import ApiError
from service.inference import classify_images

bp = Blueprint("predict", __name__)
DEFAULT_TOP_K = 5
# A raw body may also be declared as just bytes, or as what standard clients send by default
# (`curl --data-binary` and urllib: form-urlencoded; `requests.post(url, data=...)`: nothing):
# whatever the declaration, the bytes must decode as JPEG or PNG.
RAW_IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
)


def _image_bytes() -> bytes:
    media = require_content_type(*RAW_IMAGE_TYPES, "multipart/form-data", missing_ok=True)
    if media != "multipart/form-data":
        return reading_body(lambda: request.get_data(cache=False))
    # Every file part, not one per field name: two `image` parts are an error, not one image.
    files = reading_body(lambda: list(request.files.items(multi=True)))
    if len(files) != 1:
        raise ApiError(
            400,
            f"multipart body must carry exactly one file (e.g. field 'image'), got {len(files)}",
        )
    return reading_body(files[0][1].read)


def _top_k(num_classes: int) -> int:
    raw = request.args.get("top_k", str(min(DEFAULT_TOP_K, num_classes)))
    # ASCII only: str.isdigit() also accepts digits int() cannot read, such as "²".
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= num_classes):
        raise ApiError(400, f"top_k={raw[:20]!r}: expected an integer from 1 to {num_classes}")
    return int(raw)


@bp.post("/predict")
def predict() -> Response:
    """Classify one image of the served model; `?top_k=` picks how many labels (default 5)."""
    runtime_ = runtime()
    artifact = resolve_model(runtime_.settings.model_name)
    top_k = _top_k(artifact.num_classes)
    probabilities = classify_images(runtime_, artifact, [_image_bytes()], deadline())[0]
    best = np.argsort(probabilities)[::-1][:top_k]
    return jsonify(
        {
            "model_name": artifact.name,
            "model_version": str(artifact.version),
            "predictions": [
                {"label": artifact.classes[i], "probability": float(probabilities[i])} for i in best
            ],
        }
    )
