"""Bad input is a 4xx JSON error naming the problem, never a 5xx: the cases found so far.

Run in-process through Flask's test client; test_hostile_input.py generates the classes.
"""

import base64
import io
import json
import struct
import zlib
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from service.settings import Settings

pytestmark = pytest.mark.service
PREDICT = "/v1/models/image-classifier:predict"
INFER = "/v2/models/image-classifier/infer"
JSON = {"Content-Type": "application/json"}


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def claimed_size_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's calling card)."""
    data = bytearray(png(1, 1))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def tensor(shape: tuple[int, ...], value: float = 0.5) -> list[Any]:
    return np.full(shape, value).tolist()


def binary_infer(
    name: str, datatype: str, shape: list[int], raw: bytes, claimed_size: int | None = None
) -> dict[str, Any]:
    """requests kwargs for a v2 infer using the binary tensor data extension."""
    size = len(raw) if claimed_size is None else claimed_size
    tensor = {"name": name, "datatype": datatype, "shape": shape}
    header = json.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": size}}]})
    return {
        "data": header.encode() + raw,
        "headers": {"Inference-Header-Content-Length": str(len(header))},
    }


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(out, "JPEG")
    return out.getvalue()


CASES: dict[str, tuple[str, str, dict[str, Any], int, str]] = {
    "malformed-json": ("POST", PREDICT, {"data": b"{nope", "headers": JSON}, 400, "malformed JSON"),
    "json-not-object": ("POST", PREDICT, {"json": [1, 2]}, 400, "JSON object"),
    "nan-literal": (
        "POST",
        PREDICT,
        {"data": b'{"signature_name": "serve_tensor", "instances": [NaN]}', "headers": JSON},
        400,
        "NaN",
    ),
    "wrong-content-type": (
        "POST",
        PREDICT,
        {"data": b"{}", "headers": {"Content-Type": "text/plain"}},
        415,
        "Content-Type",
    ),
    "predict-json-content-type": ("POST", "/predict", {"json": {}}, 415, "image/jpeg"),
    "body-over-limit": (
        "POST",
        "/predict",
        {"data": b"\0" * (10 * 1024 * 1024 + 1), "headers": {"Content-Type": "image/png"}},
        413,
        "Too Large",
    ),
    "not-an-image": (
        "POST",
        "/predict",
        {"data": b"hello", "headers": {"Content-Type": "image/png"}},
        400,
        "cannot decode",
    ),
    "empty-image": (
        "POST",
        "/predict",
        {"data": b"", "headers": {"Content-Type": "image/png"}},
        400,
        "empty",
    ),
    "truncated-jpeg": (
        "POST",
        "/predict",
        {"data": jpeg()[:400], "headers": {"Content-Type": "image/jpeg"}},
        400,
        "truncated",
    ),
    "decompression-bomb": (
        "POST",
        "/predict",
        {"data": claimed_size_png(20_000, 20_000), "headers": {"Content-Type": "image/png"}},
        413,
        "decompression bomb",
    ),
    "bad-top-k": (
        "POST",
        "/predict?top_k=11",
        {"data": png(8, 8), "headers": {"Content-Type": "image/png"}},
        400,
        "top_k",
    ),
    "bad-base64": ("POST", PREDICT, {"json": {"instances": [{"b64": "***"}]}}, 400, "base64"),
    "string-not-b64": ("POST", PREDICT, {"json": {"instances": ["abc"]}}, 400, "b64"),
    "unknown-signature": (
        "POST",
        PREDICT,
        {"json": {"signature_name": "nope", "instances": []}},
        400,
        "signature_name",
    ),
    "instances-and-inputs": (
        "POST",
        PREDICT,
        {"json": {"instances": [], "inputs": []}},
        400,
        "exactly one",
    ),
    "no-images": ("POST", PREDICT, {"json": {"instances": []}}, 400, "no images"),
    "too-many-images": (
        "POST",
        PREDICT,
        {"json": {"instances": [{"b64": b64(png(4, 4))}] * 65}},
        400,
        "at most 64",
    ),
    "wrong-shape": (
        "POST",
        PREDICT,
        {"json": {"signature_name": "serve_tensor", "instances": tensor((1, 31, 32, 3))}},
        400,
        "shape",
    ),
    "ragged-tensor": (
        "POST",
        PREDICT,
        {"json": {"signature_name": "serve_tensor", "instances": [[[0.1, 0.2], [0.3]]]}},
        400,
        "ragged",
    ),
    "wrong-dtype": (
        "POST",
        PREDICT,
        {"json": {"signature_name": "serve_tensor", "inputs": [[["a"] * 3] * 32] * 32}},
        400,
        "numbers",
    ),
    "out-of-range": (
        "POST",
        PREDICT,
        {"json": {"signature_name": "serve_tensor", "instances": tensor((1, 32, 32, 3), 255.0)}},
        400,
        "[0, 1]",
    ),
    "huge-number": (
        "POST",
        PREDICT,
        {"data": b'{"signature_name": "serve_tensor", "instances": [1e999]}', "headers": JSON},
        400,
        "out of range",
    ),
    "unicode-digit-top-k": (
        "POST",
        "/predict?top_k=%C2%B2",
        {"data": png(8, 8), "headers": {"Content-Type": "image/png"}},
        400,
        "top_k",
    ),
    "integer-of-5000-digits": (
        "POST",
        PREDICT,
        {"data": b'{"instances": [' + b"7" * 5000 + b"]}", "headers": JSON},
        400,
        "out of range",
    ),
    "signature-name-list": (
        "POST",
        PREDICT,
        {"json": {"signature_name": [], "instances": []}},
        400,
        "signature_name",
    ),
    "v2-input-name-list": (
        "POST",
        INFER,
        {"json": {"inputs": [{"name": [], "datatype": "BYTES", "shape": [1], "data": ["AA=="]}]}},
        400,
        "unknown input",
    ),
    "v2-fp32-400-digits": (
        "POST",
        INFER,
        {
            "data": b'{"inputs": [{"name": "inputs", "datatype": "FP32", "shape": [1, 32, 32, 3],'
            b' "data": [' + b"9" * 400 + b"]}]}",
            "headers": JSON,
        },
        400,
        "out of range",
    ),
    "v2-header-length-non-ascii": (
        "POST",
        INFER,
        {"data": b"{}", "headers": {"Inference-Header-Content-Length": "\u00b2"}},
        400,
        "Inference-Header-Content-Length",
    ),
    "v2-header-length-4400-zeros": (
        "POST",
        INFER,
        {"data": b"{}", "headers": {"Inference-Header-Content-Length": "0" * 4400}},
        400,
        "Inference-Header-Content-Length",
    ),
    "two-image-parts": (
        "POST",
        "/predict",
        {
            "data": {"image": [(io.BytesIO(png(8, 8)), "a.png"), (io.BytesIO(png(8, 8)), "b.png")]},
            "content_type": "multipart/form-data",
        },
        400,
        "exactly one file",
    ),
    "count-before-decoding": (
        "POST",
        PREDICT,
        {"json": {"instances": [{"b64": "***"}] * 65}},
        400,
        "at most 64",
    ),
    "v2-count-before-decoding": (
        "POST",
        INFER,
        {"json": {"inputs": [{"name": "images", "datatype": "BYTES", "shape": [65], "data": []}]}},
        400,
        "at most 64",
    ),
    "v2-tensor-shape-before-data": (
        "POST",
        INFER,
        {"json": {"inputs": [{"name": "inputs", "datatype": "FP32", "shape": [1, 9], "data": 1}]}},
        400,
        "expected [n, 32, 32, 3]",
    ),
    "pixel-budget-before-decoding": (
        "POST",
        PREDICT,
        # Each header claims 4000x4000 = 16 M pixels, under the per-image cap; the fourth crosses
        # the per-request budget (3 x 4096^2). None could be decoded: a 413 means none was.
        {"json": {"instances": [{"b64": b64(claimed_size_png(4000, 4000))}] * 4}},
        413,
        "per request",
    ),
    "v2-deep-nesting": (
        "POST",
        INFER,
        {
            "data": b'{"inputs": [{"name": "images", "datatype": "BYTES", "shape": [1], "data": '
            + b"[" * 900
            + b'"AA=="'
            + b"]" * 900
            + b"}]}",
            "headers": JSON,
        },
        400,
        "nested deeper",
    ),
    "json-over-its-own-limit": (
        "POST",
        PREDICT,
        {"data": b" " * Settings().max_json_bytes + b"{}", "headers": JSON},
        413,
        "JSON body",
    ),
    "unknown-model": (
        "POST",
        "/v1/models/other:predict",
        {"json": {"instances": []}},
        404,
        "other",
    ),
    "unknown-version": (
        "POST",
        "/v1/models/image-classifier/versions/999:predict",
        {"json": {"instances": []}},
        404,
        "999",
    ),
    "v2-unknown-model": ("GET", "/v2/models/other", {}, 404, "other"),
    "v2-unknown-version": ("GET", "/v2/models/image-classifier/versions/999/ready", {}, 404, "999"),
    "unknown-route": ("GET", "/v3/nothing", {}, 404, "Not Found"),
    "get-on-predict": ("GET", PREDICT, {}, 405, "Method Not Allowed"),
    "delete-on-live": ("DELETE", "/v2/health/live", {}, 405, "Method Not Allowed"),
    "v2-datatype": (
        "POST",
        INFER,
        {"json": {"inputs": [{"name": "images", "datatype": "FP32", "shape": [1], "data": [1]}]}},
        400,
        "datatype",
    ),
    "v2-shape-count": (
        "POST",
        INFER,
        {
            "json": {
                "inputs": [{"name": "images", "datatype": "BYTES", "shape": [2], "data": ["AA=="]}]
            }
        },
        400,
        "needs 2 elements",
    ),
    "v2-unknown-input": (
        "POST",
        INFER,
        {"json": {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "data": ["AA=="]}]}},
        400,
        "unknown input",
    ),
    "v2-unknown-output": (
        "POST",
        INFER,
        {
            "json": {
                "inputs": [{"name": "images", "datatype": "BYTES", "shape": [1], "data": ["AA=="]}],
                "outputs": [{"name": "logits"}],
            }
        },
        400,
        "logits",
    ),
    "v2-fp32-nan-binary": (
        "POST",
        INFER,
        binary_infer("inputs", "FP32", [1, 32, 32, 3], np.full(3072, np.nan, "<f4").tobytes()),
        400,
        "NaN",
    ),
    "v2-header-length": (
        "POST",
        INFER,
        {"data": b"{}", "headers": {"Inference-Header-Content-Length": "999"}},
        400,
        "Inference-Header-Content-Length",
    ),
    "v2-binary-size-mismatch": (
        "POST",
        INFER,
        binary_infer("images", "BYTES", [1], b"\x01\x00\x00\x00x", claimed_size=9),
        400,
        "binary_data_size",
    ),
    "v2-bytes-prefix-overrun": (
        "POST",
        INFER,
        binary_infer("images", "BYTES", [1], b"\xff\x00\x00\x00x"),
        400,
        "overruns",
    ),
}
# A compressed body is refused as such on every endpoint that takes one, not misread.
GZIP = {"Content-Encoding": "gzip"}
CASES |= {
    f"gzip-{name}": ("POST", path, {"data": b"\x1f\x8b", "headers": GZIP | kind}, 415, "gzip")
    for name, path, kind in (
        ("predict", "/predict", {"Content-Type": "image/jpeg"}),
        ("tfserving", PREDICT, JSON),
        ("v2", INFER, JSON),
    )
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_a_named_client_error(
    client: FlaskClient, case: tuple[str, str, dict[str, Any], int, str]
) -> None:
    method, path, kwargs, status, words = case
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert words in response.get_json()["error"]
