"""Schemathesis fuzzing from /openapi.json, in-process: over a thousand generated requests, not
one 5xx."""

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

pytestmark = pytest.mark.service


# Positive mode: schema-valid requests, which still carry random base64, shapes and values.
# Negative mode: schema-invalid ones (wrong types, missing fields, bad paths); it generates
# slowly on two cores, so fewer; test_hostile_input generates the hostile values it misses.
@pytest.mark.parametrize(
    ("mode", "examples", "least_sent"),
    [(GenerationMode.POSITIVE, 1000, 950), (GenerationMode.NEGATIVE, 300, 75)],
)
def test_generated_requests_never_get_a_server_error(
    app: Flask,
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
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
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
        try:
            response = case.call()
        except (AttributeError, TypeError, ValueError):
            # Werkzeug's test client cannot build some schema-invalid bodies (a multipart form
            # that is a number); the app's own errors never get here, they become responses.
            reject()
        statuses.append(response.status_code)
        assert response.status_code < 500, (
            f"{response.status_code} {response.text}\n{case.as_curl_command()}"
        )

    check()
    assert len(statuses) >= least_sent, f"only {len(statuses)} requests were sent"
    assert any(400 <= s < 500 for s in statuses)
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses
