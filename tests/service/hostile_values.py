"""Hostile input, generated: valid requests with any field replaced by any JSON value (wrong
types, huge integers and floats, deep nesting, non-ASCII), and any query or header value; and
the check every answer to them must pass (a 2xx, or a 4xx JSON error giving nothing away)."""

import base64
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from service.arrival import TOKEN_BYTES

PREDICT = "/v1/models/image-classifier:predict"
INFER = "/v2/models/image-classifier/infer"
# Python's own words, which a client must never see.
PYTHON_INTERNALS = re.compile(
    r"Traceback|\b(Value|Type|Key|Index|Attribute|Overflow|Recursion|Unicode\w*)Error\b"
)
_PLACEHOLDER = "\x00raw{}\x00"


def tiny_png() -> str:
    """A 1x1 PNG, base64."""
    return base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c"
            "4944415408d763f8ffff3f0005fe02fea7d6a4d00000000049454e44ae426082"
        )
    ).decode()


TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    (PREDICT, {"instances": [{"b64": tiny_png()}]}),
    (PREDICT, {"signature_name": "serving_default", "inputs": {"images": [{"b64": tiny_png()}]}}),
    (PREDICT, {"signature_name": "serve_tensor", "instances": [[[[0.5, 0.5, 0.5]] * 32] * 32]}),
    (
        INFER,
        {
            "id": "r",
            "parameters": {"binary_data_output": False},
            "inputs": [{"name": "images", "datatype": "BYTES", "shape": [1], "data": [tiny_png()]}],
            "outputs": [{"name": "probabilities", "parameters": {"binary_data": False}}],
        },
    ),
    (
        INFER,
        {
            "inputs": [
                {
                    "name": "inputs",
                    "datatype": "FP32",
                    "shape": [1, 32, 32, 3],
                    "data": [0.5] * 3072,
                }
            ]
        },
    ),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value sits: object keys and array indexes (first 2)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


# Numbers Python's json cannot write: raw tokens put into the text after json.dumps.
raw_numbers = st.one_of(
    st.integers(20, 6000).map(lambda n: "9" * n),
    st.integers(20, 6000).map(lambda n: "-" + "1" * n),
    st.integers(300, 5000).map(lambda n: "1" * n + ".5"),
    st.sampled_from(["1e999", "-1e400", "1E-99999", "0.0000000000000000000001"]),
    st.integers(30, 3000).map(lambda n: "[" * n + "0" + "]" * n),
    st.integers(30, 3000).map(lambda n: '{"a":' * n + "0" + "}" * n),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _encode(document: Any, raw: list[str]) -> bytes:
    text = json.dumps(document)
    for index, token in enumerate(raw):
        text = text.replace(json.dumps(_PLACEHOLDER.format(index)), token)
    return text.encode()


@st.composite
def hostile_documents(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], bytes]:
    """(path, where, JSON body): a valid request with the value at `where` replaced."""
    path, template = draw(st.sampled_from(TEMPLATES))
    where = draw(st.sampled_from(_paths(template)))
    raw: list[str] = []
    if draw(st.booleans()):
        raw.append(draw(raw_numbers))
        value: Any = _PLACEHOLDER.format(0)
    else:
        value = draw(json_values)
    return path, where, _encode(_replaced(template, where, value), raw)


latin1_text = st.text(
    st.characters(max_codepoint=255, blacklist_characters="\r\n\x00"), max_size=40
) | st.integers(20, 5000).map(lambda n: "0" * n)


def server_secrets(local_model: Path) -> list[str]:
    """The server's own details: where the model lives and its files' digests."""
    metadata = json.loads((local_model / "metadata.json").read_text())
    return [str(local_model.parent.parent), *metadata["files"].values()]


def check_answer(
    status: int, content_type: str, body: bytes, sent: str, secrets: list[str]
) -> None:
    """A 2xx, or a 4xx with a JSON error that has no Python words nor `secrets` in it."""
    assert status < 500, f"{status} {body[:300]!r}\n{sent}"
    if status >= 400:
        assert content_type == "application/json", sent
        error = json.loads(body)["error"]
        assert isinstance(error, str) and not PYTHON_INTERNALS.search(error), f"{error}\n{sent}"
        assert not [secret for secret in secrets if secret in error], f"{error}\n{sent}"


@st.composite
def not_http_starts(draw: st.DrawFn) -> bytes:
    """The start of a connection that cannot be HTTP/1.x: empty lines, a few token bytes, then
    a byte no method has (TLS begins with 0x16), then anything; no line end needed."""
    blank = draw(st.sampled_from([b"", b"\r\n"]))
    token = draw(st.binary(max_size=8).map(lambda data: bytes(b for b in data if b in TOKEN_BYTES)))
    outside = draw(st.sampled_from(sorted(set(range(256)) - TOKEN_BYTES - set(b"\r\n "))))
    return blank + token + bytes([outside]) + draw(st.binary(max_size=64))
