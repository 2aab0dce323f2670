"""Open Inference Protocol v2 tensors: JSON and binary-extension parsing, response encoding."""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.errors import ApiError
from service.strict_json import parse_json

HEADER_LENGTH = "Inference-Header-Content-Length"


@dataclass(frozen=True)
class InferRequest:
    """One decoded infer request: its single input, which output format the client wants."""

    request_id: str | None
    input_name: str
    datatype: str
    shape: tuple[int, ...]
    data: list[bytes] | np.ndarray
    binary_output: bool


def _fail(message: str) -> ApiError:
    return ApiError(400, message)


def _split_body(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    if header_length is None:
        document, binary = parse_json(body), b""
    else:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise _fail(f"{HEADER_LENGTH}={header_length!r}: expected 0..{len(body)} (body size)")
        size = int(header_length)
        document, binary = parse_json(body[:size]), body[size:]
    if not isinstance(document, dict):
        raise _fail(f"infer request must be a JSON object, got {type(document).__name__}")
    return document, binary


def _shape(tensor: dict[str, Any]) -> tuple[int, ...]:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _fail(
            f"input {tensor.get('name')!r}: 'shape' must be a list of non-negative integers"
        )
    return tuple(shape)


def _flatten(data: Any) -> list[Any]:
    if isinstance(data, list):
        return [item for part in data for item in _flatten(part)]
    return [data]


def _split_bytes(raw: bytes, name: str) -> list[bytes]:
    items, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise _fail(f"input {name!r}: binary BYTES element length prefix is truncated")
        length = int.from_bytes(raw[offset : offset + 4], "little")
        offset += 4
        if offset + length > len(raw):
            raise _fail(f"input {name!r}: binary BYTES element overruns the data ({length} bytes)")
        items.append(raw[offset : offset + length])
        offset += length
    return items


def _decode_b64_strings(values: list[Any], name: str) -> list[bytes]:
    decoded = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise _fail(f"input {name!r} element {index}: BYTES in JSON must be base64 strings")
        try:
            decoded.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise _fail(f"input {name!r} element {index}: not valid base64") from None
    return decoded


def _tensor_data(
    tensor: dict[str, Any], binary: bytes, shape: tuple[int, ...]
) -> list[bytes] | np.ndarray:
    name, datatype = tensor["name"], tensor["datatype"]
    count = math.prod(shape)
    parameters = tensor.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise _fail(f"input {name!r}: 'parameters' must be an object")
    in_binary = "binary_data_size" in parameters
    if in_binary == ("data" in tensor):
        raise _fail(f"input {name!r}: give exactly one of 'data' or parameters.binary_data_size")
    if in_binary:
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size != len(binary):
            raise _fail(
                f"input {name!r}: binary_data_size={size!r} but {len(binary)} bytes follow"
                " the header"
            )
    elif binary:
        raise _fail(
            f"{len(binary)} bytes of binary data follow the header but no input claims them"
        )
    if datatype == "BYTES":
        items = (
            _split_bytes(binary, name)
            if in_binary
            else _decode_b64_strings(_flatten(tensor["data"]), name)
        )
        if len(items) != count:
            raise _fail(
                f"input {name!r}: shape {list(shape)} needs {count} elements, got {len(items)}"
            )
        return items
    if in_binary:
        if len(binary) != count * 4:
            raise _fail(f"input {name!r}: shape {list(shape)} needs {count * 4} bytes of FP32")
        return np.frombuffer(binary, dtype="<f4").reshape(shape)
    values = _flatten(tensor["data"])
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise _fail(f"input {name!r}: FP32 data must be numbers")
    if len(values) != count:
        raise _fail(
            f"input {name!r}: shape {list(shape)} needs {count} elements, got {len(values)}"
        )
    return np.asarray(values, dtype=np.float64).reshape(shape)


def _wants_binary(document: dict[str, Any], output_name: str) -> bool:
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise _fail("'parameters' must be an object")
    binary = parameters.get("binary_data_output", False) is True
    outputs = document.get("outputs", [])
    if not isinstance(outputs, list):
        raise _fail("'outputs' must be a list")
    for output in outputs:
        if not isinstance(output, dict) or output.get("name") != output_name:
            raise _fail(f"unknown requested output {output!r}: this model has only {output_name!r}")
        output_parameters = output.get("parameters") or {}
        if not isinstance(output_parameters, dict):
            raise _fail(f"output {output_name!r}: 'parameters' must be an object")
        binary = output_parameters.get("binary_data", binary) is True
    return binary


def parse_infer_request(
    body: bytes, header_length: str | None, datatypes: dict[str, str], output_name: str
) -> InferRequest:
    """Decode a request with exactly one input whose name and datatype are in `datatypes`."""
    document, binary = _split_body(body, header_length)
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise _fail(
            f"'inputs' must be a list with exactly one tensor, named one of {sorted(datatypes)}"
        )
    tensor = inputs[0]
    name = tensor.get("name")
    if name not in datatypes:
        raise _fail(f"unknown input {name!r}: expected one of {sorted(datatypes)}")
    if tensor.get("datatype") != datatypes[name]:
        raise _fail(
            f"input {name!r}: datatype {tensor.get('datatype')!r}, expected {datatypes[name]!r}"
        )
    shape = _shape(tensor)
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise _fail("'id' must be a string")
    return InferRequest(
        request_id=request_id,
        input_name=name,
        datatype=datatypes[name],
        shape=shape,
        data=_tensor_data(tensor, binary, shape),
        binary_output=_wants_binary(document, output_name),
    )


def encode_infer_response(
    header: dict[str, Any], output_name: str, values: np.ndarray, binary: bool
) -> tuple[bytes, dict[str, str]]:
    """The response body and headers: FP32 `values` as JSON data or as appended binary."""
    output: dict[str, Any] = {"name": output_name, "datatype": "FP32", "shape": list(values.shape)}
    if not binary:
        output["data"] = values.reshape(-1).tolist()
        document = json.dumps({**header, "outputs": [output]}).encode()
        return document, {"Content-Type": "application/json"}
    raw = values.astype("<f4").tobytes()
    output["parameters"] = {"binary_data_size": len(raw)}
    document = json.dumps({**header, "outputs": [output]}).encode()
    return document + raw, {
        "Content-Type": "application/octet-stream",
        HEADER_LENGTH: str(len(document)),
    }
