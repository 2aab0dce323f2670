"""Schemathesis fuzzing from /openapi.json: thousands of generated requests, not one 5xx."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from bench.server import Server

pytestmark = pytest.mark.service


# Positive mode: schema-valid requests, which still carry random base64, shapes and values.
# Negative mode: schema-invalid ones (wrong types, missing fields, bad paths); it generates
# slowly on two cores, so fewer, and test_bad_input lists the invalid input named in the issue.
@pytest.mark.parametrize(
    ("mode", "examples", "least_sent"),
    [(GenerationMode.POSITIVE, 2100, 2000), (GenerationMode.NEGATIVE, 600, 150)],
)
def test_generated_requests_never_get_a_server_error(
    tf_server: Server,
    digit_images: dict[str, bytes],
    digit_jpeg: bytes,
    mode: GenerationMode,
    examples: int,
    least_sent: int,
) -> None:
    # Raw image bodies: arbitrary bytes, sometimes a real image, so both paths are exercised.
    images = st.one_of(st.binary(max_size=4096), st.sampled_from([digit_jpeg, digit_images["1"]]))
    for media_type in ("image/jpeg", "image/png"):
        schemathesis.openapi.media_type(media_type, images)
    schema = schemathesis.openapi.from_url(tf_server.url + "/openapi.json")
    session = requests.Session()
    statuses: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=schema.as_strategy(generation_mode=mode))
    def check(case: Case) -> None:
        response = case.call(base_url=tf_server.url, session=session, timeout=30)
        statuses.append(response.status_code)
        assert response.status_code < 500, (
            f"{response.status_code} {response.text}\n{case.as_curl_command()}"
        )

    check()
    assert len(statuses) >= least_sent, f"only {len(statuses)} requests were sent"
    assert any(400 <= s < 500 for s in statuses)
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses
