"""Open Inference Protocol v2 (KServe / Triton): server and model metadata, readiness, infer."""

from functools import partial
from importlib import metadata as package_metadata

import numpy as np
from flask import Blueprint, Response, jsonify, request

from service.admission import deadline
from service.api.common import body_within, require_content_type, resolve_model, runtime
from service.errors import ApiError
from service.inference import check_count, classify_images, classify_tensor, tensor_rows
from service.model_store import ModelArtifact
from service.settings import Backend
from service.signatures import IMAGES, OUTPUT, TENSOR, v2_tensors
from service.v2_codec import HEADER_LENGTH, encode_infer_response, parse_infer_request

bp = Blueprint("v2", __name__, url_prefix="/v2")
SERVER_NAME = "image-classifier-service"
EXTENSIONS = ["binary_tensor_data"]
PLATFORMS = {
    Backend.TENSORFLOW: "tensorflow_savedmodel",
    Backend.TENSORFLOW_BF16: "tensorflow_savedmodel",
    Backend.LITERT: "tensorflow_lite",
    Backend.OPENVINO: "openvino",  # Triton's name for its OpenVINO backend
}
INPUT_DATATYPES = {IMAGES: "BYTES", TENSOR: "FP32"}


@bp.get("")
def server_metadata() -> Response:
    """Server name, version and the protocol extensions it supports."""
    try:
        version = package_metadata.version("image-classifier-platform")
    except package_metadata.PackageNotFoundError:
        version = "0"
    return jsonify({"name": SERVER_NAME, "version": version, "extensions": EXTENSIONS})


@bp.get("/models/<segment:name>")
@bp.get("/models/<segment:name>/versions/<segment:version>")
def model_metadata(name: str, version: str | None = None) -> Response:
    """Model name, versions, platform and tensor descriptions."""
    artifact = resolve_model(name, version)
    return jsonify(
        {
            "name": name,
            "versions": [str(artifact.version)],
            "platform": PLATFORMS[runtime().settings.model_backend],
            **v2_tensors(artifact),
        }
    )


@bp.get("/models/<segment:name>/ready")
@bp.get("/models/<segment:name>/versions/<segment:version>/ready")
def model_ready(name: str, version: str | None = None) -> Response:
    """200 when this model version is loaded and serving."""
    resolve_model(name, version)
    if not runtime().ready:
        raise ApiError(503, f"model {name!r} is not ready ({runtime().state.value})")
    return jsonify({"name": name, "ready": True})


@bp.post("/models/<segment:name>/infer")
@bp.post("/models/<segment:name>/versions/<segment:version>/infer")
def infer(name: str, version: str | None = None) -> Response:
    """Classify BYTES (encoded images) or FP32 [n, H, W, 3] input; JSON or binary output."""
    artifact = resolve_model(name, version)
    settings = runtime().settings
    require_content_type("application/json", "application/octet-stream", missing_ok=True)
    header_length = request.headers.get(HEADER_LENGTH)
    if header_length is None:  # all JSON
        body = body_within(settings.max_json_bytes, "JSON body")
    else:  # a JSON header, then binary tensor data
        body = body_within(settings.max_request_bytes, "body")
    parsed = parse_infer_request(
        body,
        header_length,
        INPUT_DATATYPES,
        OUTPUT,
        partial(_check_shape, artifact),
        settings.max_json_bytes,
    )
    if isinstance(parsed.data, np.ndarray):
        rows = tensor_rows(parsed.data, artifact)
        probabilities = classify_tensor(runtime(), rows, deadline())
    else:
        probabilities = classify_images(runtime(), artifact, parsed.data, deadline())
    header = {"model_name": name, "model_version": str(artifact.version)}
    if parsed.request_id is not None:
        header["id"] = parsed.request_id
    body, headers = encode_infer_response(header, OUTPUT, probabilities, parsed.binary_output)
    return Response(body, status=200, headers=headers)


def _check_shape(artifact: ModelArtifact, name: str, shape: tuple[int, ...]) -> None:
    """The shapes each input takes, checked before its data is decoded."""
    if name == IMAGES:
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise ApiError(400, f"input {IMAGES!r}: shape {list(shape)}, expected [n] or [n, 1]")
    elif len(shape) != 4 or shape[1:] != (artifact.height, artifact.width, 3):
        expected = f"[n, {artifact.height}, {artifact.width}, 3]"
        raise ApiError(400, f"input {TENSOR!r}: shape {list(shape)}, expected {expected}")
    check_count(shape[0])
