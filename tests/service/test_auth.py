"""Bearer-token auth: inference routes need a valid token, read afresh when the file changes;
health, metrics and OpenAPI stay open; a weak token file stops the server at startup."""

import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ops.bench.server import start_server
from service.auth import read_tokens
from service.settings import Backend, Settings, SettingsError
from tests.service.conftest import TOKEN, ready_app

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
NEXT_TOKEN = "next-token-after-rotation-0123456789"


def write_tokens(path: Path, *tokens: str) -> None:
    """Replace the file in one step, as the kubelet updates a mounted Secret."""
    staged = path.with_suffix(".new")
    staged.write_text("".join(f"{token}\n" for token in tokens))
    os.replace(staged, path)


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "token"
    write_tokens(path, TOKEN)
    return path


@pytest.fixture(scope="module")
def auth_app(model_base: Path, token_file: Path) -> Flask:
    """LiteRT app with bearer auth."""
    return ready_app(
        Settings(
            model_base_path=model_base, model_backend=Backend.LITERT, auth_token_file=token_file
        )
    )


@pytest.fixture
def auth_client(auth_app: Flask, token_file: Path) -> FlaskClient:
    write_tokens(token_file, TOKEN)
    return auth_app.test_client()


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_inference_routes_refuse_missing_or_wrong_token(
    auth_client: FlaskClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = auth_client.open(path, method=method, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token" in response.get_json()["error"]


@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER  {TOKEN}", f" Bearer {TOKEN} "]
)
def test_right_token_is_accepted_whatever_the_scheme_case(
    auth_client: FlaskClient, digit_images: dict[str, bytes], authorization: str
) -> None:
    headers = {"Authorization": authorization, "Content-Type": "image/png"}
    response = auth_client.post("/predict", data=digit_images["6"], headers=headers)
    assert response.status_code == 200, response.text
    assert auth_client.get("/v2", headers=headers).status_code == 200


def test_a_rotated_token_file_is_followed_with_both_tokens_valid_meanwhile(
    auth_client: FlaskClient, token_file: Path
) -> None:
    def status(token: str) -> int:
        return auth_client.get("/v2", headers={"Authorization": f"Bearer {token}"}).status_code

    assert (status(TOKEN), status(NEXT_TOKEN)) == (200, 401)
    write_tokens(token_file, TOKEN, NEXT_TOKEN)
    assert (status(TOKEN), status(NEXT_TOKEN)) == (200, 200)
    write_tokens(token_file, NEXT_TOKEN)
    assert (status(TOKEN), status(NEXT_TOKEN)) == (401, 200)
    # A rotation that leaves the file broken keeps the last good tokens.
    write_tokens(token_file, "short")
    assert (status(TOKEN), status(NEXT_TOKEN)) == (401, 200)


@pytest.mark.parametrize("path", OPEN)
def test_probes_metrics_and_openapi_stay_open(auth_client: FlaskClient, path: str) -> None:
    assert auth_client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "holds no token"), ("short-token\n", "at least 32"), (f"{TOKEN}\nweak\n", "token 2")],
)
def test_a_weak_token_file_is_refused_naming_the_problem(
    tmp_path: Path, content: str, words: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(content)
    with pytest.raises(SettingsError, match=f"AUTH_TOKEN_FILE={token_file}: .*{words}"):
        read_tokens(token_file)


def test_gunicorn_refuses_to_start_with_a_weak_token(model_base: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("short-token\n")
    log = tmp_path / "gunicorn.log"
    with start_server(model_base, log, AUTH_TOKEN_FILE=str(token_file)) as server:
        assert server.process.wait(timeout=30) != 0
    assert f"AUTH_TOKEN_FILE={token_file}: token 1 must be at least 32" in log.read_text()
