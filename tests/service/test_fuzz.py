"""Schemathesis fuzzing from /openapi.json: thousands of generated requests, not one 5xx."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from tests.service.server import Server

pytestmark = pytest.mark.service
REQUESTS = 2100


def test_generated_requests_never_get_a_server_error(
    tf_server: Server, digit_images: dict[str, bytes], digit_jpeg: bytes
) -> None:
    # Raw image bodies: arbitrary bytes, sometimes a real image, so both paths are exercised.
    images = st.one_of(st.binary(max_size=4096), st.sampled_from([digit_jpeg, digit_images["1"]]))
    for media_type in ("image/jpeg", "image/png"):
        schemathesis.openapi.media_type(media_type, images)
    schema = schemathesis.openapi.from_url(tf_server.url + "/openapi.json")
    session = requests.Session()
    statuses: list[int] = []

    # Positive mode: schema-valid requests, which still carry random base64, shapes and values.
    # (Negative generation is too slow on two shared cores; test_bad_input covers invalid input.)
    @settings(
        max_examples=REQUESTS,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=schema.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def check(case: Case) -> None:
        response = case.call(base_url=tf_server.url, session=session, timeout=30)
        statuses.append(response.status_code)
        assert response.status_code < 500, (
            f"{response.status_code} {response.text}\n{case.as_curl_command()}"
        )

    check()
    assert len(statuses) >= 2000, f"only {len(statuses)} requests were sent"
    assert 200 in statuses and any(400 <= s < 500 for s in statuses)
