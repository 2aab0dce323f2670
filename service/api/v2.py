"""Open Inference Protocol v2 (KServe / Triton): server and model metadata, readiness, infer."""

from importlib import metadata as package_metadata

import numpy as np
from flask import Blueprint, Response, jsonify, request

from service.api.common import require_content_type, resolve_model, runtime
from service.errors import ApiError
from service.inference import classify_images, classify_tensor, tensor_rows
from service.settings import Backend
from service.signatures import IMAGES, OUTPUT, TENSOR, v2_tensors
from service.v2_codec import HEADER_LENGTH, encode_infer_response, parse_infer_request

bp = Blueprint("v2", __name__, url_prefix="/v2")
SERVER_NAME = "image-classifier-service"
EXTENSIONS = ["binary_tensor_data"]
PLATFORMS = {Backend.TENSORFLOW: "tensorflow_savedmodel", Backend.LITERT: "tensorflow_lite"}
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
    require_content_type("application/json", "application/octet-stream", missing_ok=True)
    if request.content_encoding not in (None, "", "identity"):
        raise ApiError(
            415, f"unsupported Content-Encoding {request.content_encoding!r}: send identity"
        )
    parsed = parse_infer_request(
        request.get_data(cache=False), request.headers.get(HEADER_LENGTH), INPUT_DATATYPES, OUTPUT
    )
    if parsed.input_name == IMAGES:
        if len(parsed.shape) not in (1, 2) or (len(parsed.shape) == 2 and parsed.shape[1] != 1):
            raise ApiError(
                400, f"input {IMAGES!r}: shape {list(parsed.shape)}, expected [n] or [n, 1]"
            )
        assert isinstance(parsed.data, list)
        probabilities = classify_images(runtime(), artifact, parsed.data)
    else:
        assert isinstance(parsed.data, np.ndarray)
        probabilities = classify_tensor(runtime(), tensor_rows(parsed.data, artifact))
    header = {"model_name": name, "model_version": str(artifact.version)}
    if parsed.request_id is not None:
        header["id"] = parsed.request_id
    body, headers = encode_infer_response(header, OUTPUT, probabilities, parsed.binary_output)
    return Response(body, status=200, headers=headers)
