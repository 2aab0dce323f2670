"""Generated hostile input, in-process: any field of a valid request replaced by any JSON value
(wrong types, huge integers and floats, deep nesting, non-ASCII), and any query string or
header value, gets a 2xx or a 4xx JSON error that gives nothing of the server away."""

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.service
PREDICT = "/v1/models/image-classifier:predict"
INFER = "/v2/models/image-classifier/infer"
# Python's own words, which a client must never see.
PYTHON_INTERNALS = re.compile(
    r"Traceback|\b(Value|Type|Key|Index|Attribute|Overflow|Recursion|Unicode\w*)Error\b"
)
EXAMPLES = settings(
    max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
_PLACEHOLDER = "\x00raw{}\x00"


def _tiny_png() -> str:
    return base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c"
            "4944415408d763f8ffff3f0005fe02fea7d6a4d00000000049454e44ae426082"
        )
    ).decode()


TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    (PREDICT, {"instances": [{"b64": _tiny_png()}]}),
    (PREDICT, {"signature_name": "serving_default", "inputs": {"images": [{"b64": _tiny_png()}]}}),
    (PREDICT, {"signature_name": "serve_tensor", "instances": [[[[0.5, 0.5, 0.5]] * 32] * 32]}),
    (
        INFER,
        {
            "id": "r",
            "parameters": {"binary_data_output": False},
            "inputs": [
                {"name": "images", "datatype": "BYTES", "shape": [1], "data": [_tiny_png()]}
            ],
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


@pytest.fixture(scope="module")
def secrets(local_model: Path) -> list[str]:
    """The server's own details: where the model lives and its files' digests."""
    metadata = json.loads((local_model / "metadata.json").read_text())
    return [str(local_model.parent.parent), *metadata["files"].values()]


def assert_client_error_or_success(response: Any, sent: str, secrets: list[str]) -> None:
    assert response.status_code < 500, f"{response.status_code} {response.text[:300]}\n{sent}"
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/json", sent
        error = response.get_json()["error"]
        assert isinstance(error, str) and not PYTHON_INTERNALS.search(error), f"{error}\n{sent}"
        assert not [secret for secret in secrets if secret in error], f"{error}\n{sent}"


@EXAMPLES
@given(data=st.data())
def test_any_field_replaced_by_any_json_value(
    client: FlaskClient, secrets: list[str], data: st.DataObject
) -> None:
    path, template = data.draw(st.sampled_from(TEMPLATES))
    where = data.draw(st.sampled_from(_paths(template)))
    raw: list[str] = []
    if data.draw(st.booleans()):
        raw.append(data.draw(raw_numbers))
        value: Any = _PLACEHOLDER.format(0)
    else:
        value = data.draw(json_values)
    body = _encode(_replaced(template, where, value), raw)
    response = client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert_client_error_or_success(response, f"POST {path} at {where}: {body[:200]!r}", secrets)


latin1_text = st.text(
    st.characters(max_codepoint=255, blacklist_characters="\r\n\x00"), max_size=40
) | st.integers(20, 5000).map(lambda n: "0" * n)


@EXAMPLES
@given(top_k=latin1_text)
def test_any_top_k_query_value(client: FlaskClient, secrets: list[str], top_k: str) -> None:
    response = client.post(
        "/predict",
        query_string={"top_k": top_k},
        data=base64.b64decode(_tiny_png()),
        headers={"Content-Type": "image/png"},
    )
    assert_client_error_or_success(response, f"top_k={top_k!r}", secrets)


@EXAMPLES
@given(
    header=st.sampled_from(
        ["Inference-Header-Content-Length", "Content-Length", "Content-Type", "X-Request-ID"]
    ),
    value=latin1_text,
)
def test_any_header_value_on_v2_infer(
    client: FlaskClient, secrets: list[str], header: str, value: str
) -> None:
    body = _encode(TEMPLATES[3][1], [])
    response = client.post(
        INFER, data=body, headers={"Content-Type": "application/json", header: value}
    )
    assert_client_error_or_success(response, f"{header}: {value!r}", secrets)
