"""Bearer-token auth: inference routes need the token; health, metrics and OpenAPI stay open."""

import pytest

from bench.server import Server
from tests.service.conftest import TOKEN

pytestmark = pytest.mark.service
PROTECTED = [
    ("GET", "/v1/models/image-classifier"),
    ("GET", "/v2"),
    ("GET", "/v2/models/image-classifier"),
    ("POST", "/v2/models/image-classifier/infer"),
    ("POST", "/v1/models/image-classifier:predict"),
    ("POST", "/predict"),
]
OPEN = ["/v2/health/live", "/v2/health/ready", "/metrics", "/openapi.json"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", TOKEN])
def test_inference_routes_refuse_missing_or_wrong_token(
    auth_server: Server, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = (
        auth_server.get(path, headers=headers)
        if method == "GET"
        else auth_server.post(path, headers=headers)
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token" in response.json()["error"]


def test_right_token_is_accepted(auth_server: Server, digit_images: dict[str, bytes]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "image/png"}
    response = auth_server.post("/predict", data=digit_images["6"], headers=headers)
    assert response.status_code == 200, response.text
    assert auth_server.get("/v2", headers=headers).status_code == 200


@pytest.mark.parametrize("path", OPEN)
def test_probes_metrics_and_openapi_stay_open(auth_server: Server, path: str) -> None:
    assert auth_server.get(path).status_code == 200
