"""GET /openapi.json: the OpenAPI 3 description of every route this service answers."""

from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)

_ERROR = {
    "description": "Error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[^/:]+$"},
}
_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[^/:]+$"},
}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_B64 = {
    "type": "object",
    "required": ["b64"],
    "properties": {"b64": {"type": "string", "format": "byte"}},
}
_TENSOR = {
    "description": "float32 [n, H, W, 3] in [0, 1]",
    "type": "array",
    "items": {
        "type": "array",
        "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, "default": _ERROR}, **extra}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = _json(schema)
    return {"200": body}


def _versioned(path: str, operation: dict[str, Any], method: str = "get") -> dict[str, Any]:
    """The same operation at `/<name>...` and `/<name>/versions/<version>...`."""
    plain, versioned = path.format(v=""), path.format(v="/versions/{version}")
    return {
        plain: {method: {**operation, "parameters": [_NAME]}},
        versioned: {method: {**operation, "parameters": [_NAME, _VERSION]}},
    }


_TF_PREDICT = {
    "type": "object",
    "properties": {
        "signature_name": {"type": "string", "enum": ["serving_default", "serve_tensor"]},
        "instances": {"type": "array", "items": {"oneOf": [_B64, _TENSOR["items"]]}},
        "inputs": {"oneOf": [{"type": "array", "items": _B64}, _TENSOR]},
    },
}
_V2_PARAMETERS = {
    "type": "object",
    "properties": {
        "binary_data_output": {"type": "boolean"},
        "binary_data_size": {"type": "integer"},
    },
    "additionalProperties": False,
}
_V2_INFER = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": _V2_PARAMETERS,
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "datatype", "shape"],
                "properties": {
                    "name": {"type": "string", "enum": ["images", "inputs"]},
                    "datatype": {"type": "string", "enum": ["BYTES", "FP32"]},
                    "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "parameters": _V2_PARAMETERS,
                    "data": {
                        "description": "row-major, flat: base64 strings (BYTES) or numbers (FP32)",
                        "type": "array",
                        "items": {
                            "anyOf": [{"type": "string", "format": "byte"}, {"type": "number"}]
                        },
                    },
                },
            },
        },
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "enum": ["probabilities"]},
                    "parameters": {
                        "type": "object",
                        "properties": {"binary_data": {"type": "boolean"}},
                        "additionalProperties": False,
                    },
                },
            },
        },
    },
}
_IMAGE = {"schema": {"type": "string", "format": "binary"}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.0 document."""
    paths: dict[str, Any] = {
        "/v2/health/live": {"get": _operation("Liveness", _ok("Live"))},
        "/v2/health/ready": {
            "get": _operation("Readiness (every worker's model loaded and warm)", _ok("Ready"))
        },
        "/metrics": {
            "get": _operation("Prometheus metrics", {"200": {"description": "Text exposition"}})
        },
        "/v2": {"get": _operation("v2 server metadata", _ok("Server metadata"), security=_BEARER)},
        "/predict": {
            "post": _operation(
                "Classify one image: top-k labels",
                _ok("Labels with probabilities"),
                security=_BEARER,
                parameters=[
                    {"name": "top_k", "in": "query", "schema": {"type": "integer", "minimum": 1}}
                ],
                requestBody={
                    "required": True,
                    "content": {
                        "image/jpeg": _IMAGE,
                        "image/png": _IMAGE,
                        "application/octet-stream": _IMAGE,
                        "multipart/form-data": {
                            "schema": {"type": "object", "properties": {"image": _IMAGE["schema"]}}
                        },
                    },
                },
            )
        },
    }
    protected = {"security": _BEARER}
    paths |= _versioned(
        "/v1/models/{{name}}{v}", _operation("TF-Serving model status", _ok("Status"), **protected)
    )
    paths |= _versioned(
        "/v1/models/{{name}}{v}/metadata",
        _operation("TF-Serving model metadata", _ok("Metadata"), **protected),
    )
    paths |= _versioned(
        "/v1/models/{{name}}{v}:predict",
        _operation(
            "TF-Serving predict",
            _ok("predictions (row format) or outputs (columnar)"),
            requestBody={"required": True, "content": _json(_TF_PREDICT)},
            **protected,
        ),
        method="post",
    )
    paths |= _versioned(
        "/v2/models/{{name}}{v}", _operation("v2 model metadata", _ok("Metadata"), **protected)
    )
    paths |= _versioned(
        "/v2/models/{{name}}{v}/ready", _operation("v2 model readiness", _ok("Ready"), **protected)
    )
    paths |= _versioned(
        "/v2/models/{{name}}{v}/infer",
        _operation(
            "v2 infer (JSON, or binary tensor data with Inference-Header-Content-Length)",
            _ok("Inference response"),
            requestBody={"required": True, "content": _json(_V2_INFER)},
            **protected,
        ),
        method="post",
    )
    return {
        "openapi": "3.0.3",
        "info": {"title": "Image classifier inference service", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document."""
    return jsonify(document())
