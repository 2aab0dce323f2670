"""Generated hostile input, in-process: any field of a valid request replaced by any JSON value,
and any query string or header value, gets a 2xx or a 4xx JSON error that gives nothing of the
server away (tests/service/hostile_values.py generates them)."""

import base64
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.hostile_values import (
    INFER,
    TEMPLATES,
    check_answer,
    hostile_documents,
    latin1_text,
    server_secrets,
    tiny_png,
)

pytestmark = pytest.mark.service
EXAMPLES = settings(
    max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def secrets(local_model: Path) -> list[str]:
    return server_secrets(local_model)


def check(response: Any, sent: str, secrets: list[str]) -> None:
    content_type = response.headers.get("Content-Type", "")
    check_answer(response.status_code, content_type, response.data, sent, secrets)


@EXAMPLES
@given(document=hostile_documents())
def test_any_field_replaced_by_any_json_value(
    client: FlaskClient, secrets: list[str], document: tuple[str, tuple[Any, ...], bytes]
) -> None:
    path, where, body = document
    response = client.post(path, data=body, headers={"Content-Type": "application/json"})
    check(response, f"POST {path} at {where}: {body[:200]!r}", secrets)


@EXAMPLES
@given(top_k=latin1_text)
def test_any_top_k_query_value(client: FlaskClient, secrets: list[str], top_k: str) -> None:
    response = client.post(
        "/predict",
        query_string={"top_k": top_k},
        data=base64.b64decode(tiny_png()),
        headers={"Content-Type": "image/png"},
    )
    check(response, f"top_k={top_k!r}", secrets)


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
    body = TEMPLATES[3][1]
    response = client.post(
        INFER, json=body, headers={"Content-Type": "application/json", header: value}
    )
    check(response, f"{header}: {value!r}", secrets)
