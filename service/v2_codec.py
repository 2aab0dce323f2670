"""Open Inference Protocol v2 tensors: JSON and binary-extension parsing, response encoding."""

import base64
import binascii
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.errors import ApiError, shown
from service.strict_json import parse_json

HEADER_LENGTH = "Inference-Header-Content-Length"
MAX_ID_LENGTH = 256
# Called with the input's name and declared shape before its data is decoded: raises ApiError
# when the shape (or the element count it implies) is not one the model takes.
ShapeCheck = Callable[[str, tuple[int, ...]], None]


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


def _split_body(
    body: bytes, header_length: str | None, max_json_bytes: int
) -> tuple[dict[str, Any], bytes]:
    if header_length is None:
        size = len(body)
    else:
        # ASCII and short: str.isdigit() accepts digits int() rejects, and int() refuses (or
        # slowly converts) thousands of digits.
        valid = header_length.isascii() and header_length.isdigit() and len(header_length) <= 12
        if not valid or int(header_length) > len(body):
            raise _fail(
                f"{HEADER_LENGTH}={shown(header_length)}: expected 0..{len(body)} (body size)"
            )
        size = int(header_length)
    if size > max_json_bytes:
        raise ApiError(413, f"JSON of {size} bytes: at most {max_json_bytes} are accepted")
    document, binary = parse_json(body[:size]), body[size:]
    if not isinstance(document, dict):
        raise _fail(f"infer request must be a JSON object, got {type(document).__name__}")
    return document, binary


def _shape(name: str, tensor: dict[str, Any]) -> tuple[int, ...]:
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _fail(f"input {name!r}: 'shape' must be a list of non-negative integers")
    return tuple(shape)


def _flatten(data: Any, name: str, depth: int) -> list[Any]:
    """The row-major elements of `data`: flat, or nested at most `depth` lists deep."""
    if not isinstance(data, list):
        raise _fail(f"input {name!r}: 'data' must be a list")
    items, level = data, 1
    while any(isinstance(item, list) for item in items):
        level += 1
        if level > depth:
            raise _fail(f"input {name!r}: 'data' is nested deeper than its shape")
        items = [part for item in items for part in (item if isinstance(item, list) else [item])]
    return items


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
    name: str, tensor: dict[str, Any], binary: bytes, shape: tuple[int, ...]
) -> list[bytes] | np.ndarray:
    datatype = tensor["datatype"]
    count = math.prod(shape)
    depth = max(1, len(shape))
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
                f"input {name!r}: binary_data_size={shown(size)} but {len(binary)} bytes follow"
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
            else _decode_b64_strings(_flatten(tensor["data"], name, depth), name)
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
    values = _flatten(tensor["data"], name, depth)
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
            raise _fail(
                f"unknown requested output {shown(output)}: this model has only {output_name!r}"
            )
        output_parameters = output.get("parameters") or {}
        if not isinstance(output_parameters, dict):
            raise _fail(f"output {output_name!r}: 'parameters' must be an object")
        binary = output_parameters.get("binary_data", binary) is True
    return binary


def parse_infer_request(
    body: bytes,
    header_length: str | None,
    datatypes: dict[str, str],
    output_name: str,
    check_shape: ShapeCheck,
    max_json_bytes: int,
) -> InferRequest:
    """Decode a request with exactly one input whose name and datatype are in `datatypes`;
    its shape passes `check_shape` before any element is decoded."""
    document, binary = _split_body(body, header_length, max_json_bytes)
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise _fail(
            f"'inputs' must be a list with exactly one tensor, named one of {sorted(datatypes)}"
        )
    tensor = inputs[0]
    name = tensor.get("name")
    if not isinstance(name, str) or name not in datatypes:
        raise _fail(f"unknown input {shown(name)}: expected one of {sorted(datatypes)}")
    if tensor.get("datatype") != datatypes[name]:
        raise _fail(
            f"input {name!r}: datatype {shown(tensor.get('datatype'))}, "
            f"expected {datatypes[name]!r}"
        )
    request_id = document.get("id")
    if request_id is not None and not (
        isinstance(request_id, str) and len(request_id) <= MAX_ID_LENGTH
    ):
        raise _fail(f"'id' must be a string of at most {MAX_ID_LENGTH} characters")
    binary_output = _wants_binary(document, output_name)
    shape = _shape(name, tensor)
    check_shape(name, shape)
    return InferRequest(
        request_id=request_id,
        input_name=name,
        datatype=datatypes[name],
        shape=shape,
        data=_tensor_data(name, tensor, binary, shape),
        binary_output=binary_output,
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
