"""TensorFlow Serving REST API: model status, metadata and :predict (row and columnar formats)."""

import base64
import binascii
from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify

from service.admission import deadline
from service.api.common import json_object_body, resolve_model, runtime
from service.errors import ApiError, shown
from service.inference import check_count, classify_images, classify_tensor, tensor_rows
from service.model_store import ModelArtifact
from service.signatures import INPUT_OF, SERVING_DEFAULT, signature_defs

bp = Blueprint("tfserving", __name__, url_prefix="/v1/models")


@bp.get("/<segment:name>")
@bp.get("/<segment:name>/versions/<segment:version>")
def status(name: str, version: str | None = None) -> Response:
    """GetModelStatus: the state of the served version."""
    artifact = resolve_model(name, version)
    entry = {
        "version": str(artifact.version),
        "state": runtime().state.value,
        "status": {"error_code": "OK", "error_message": ""},
    }
    return jsonify({"model_version_status": [entry]})


@bp.get("/<segment:name>/metadata")
@bp.get("/<segment:name>/versions/<segment:version>/metadata")
def metadata(name: str, version: str | None = None) -> Response:
    """GetModelMetadata: the signature definitions."""
    artifact = resolve_model(name, version)
    return jsonify(
        {
            "model_spec": {"name": name, "signature_name": "", "version": str(artifact.version)},
            "metadata": {"signature_def": {"signature_def": signature_defs(artifact)}},
        }
    )


@bp.post("/<segment:name>:predict")
@bp.post("/<segment:name>/versions/<segment:version>:predict")
def predict(name: str, version: str | None = None) -> Response:
    """Predict with `instances` (row format) or `inputs` (columnar format)."""
    artifact = resolve_model(name, version)
    body = json_object_body()
    signature = body.get("signature_name", SERVING_DEFAULT)
    if not isinstance(signature, str) or signature not in INPUT_OF:
        known = ", ".join(INPUT_OF)
        raise ApiError(400, f"signature_name {shown(signature)} not found: expected one of {known}")
    if ("instances" in body) == ("inputs" in body):
        raise ApiError(400, "request must contain exactly one of 'instances' or 'inputs'")
    row_format = "instances" in body
    values = _input_values(body, INPUT_OF[signature], row_format)
    probabilities = _run(signature, values, artifact)
    return jsonify({"predictions" if row_format else "outputs": probabilities.tolist()})


def _input_values(body: dict[str, Any], input_name: str, row_format: bool) -> list[Any]:
    """The list of per-image values, from either format, with named inputs unwrapped."""
    key = "instances" if row_format else "inputs"
    values = body[key]
    if not row_format and isinstance(values, dict):
        if set(values) != {input_name}:
            raise ApiError(
                400,
                f"'inputs' must name the single input {input_name!r}, got {shown(sorted(values))}",
            )
        values = values[input_name]
    if not isinstance(values, list):
        raise ApiError(400, f"'{key}' must be a list, got {type(values).__name__}")
    check_count(len(values))  # before any element is decoded
    if row_format:
        values = [
            item[input_name] if isinstance(item, dict) and set(item) == {input_name} else item
            for item in values
        ]
    return values


def _decode_b64(index: int, value: Any) -> bytes:
    if not (isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str)):
        raise ApiError(400, f'instance {index}: expected {{"b64": "<base64 JPEG/PNG>"}}')
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"instance {index}: 'b64' is not valid base64") from None


def _run(signature: str, values: list[Any], artifact: ModelArtifact) -> np.ndarray:
    if signature == SERVING_DEFAULT:
        images = [_decode_b64(index, value) for index, value in enumerate(values)]
        return classify_images(runtime(), artifact, images, deadline())
    return classify_tensor(runtime(), tensor_rows(values, artifact), deadline())
