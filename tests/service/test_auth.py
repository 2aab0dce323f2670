"""Bearer-token auth: inference routes need a valid token (shared, or a named client's within its
scope), read afresh when the file changes; health, metrics and OpenAPI stay open; a bad token or
clients file stops the server at startup; every protected request is audited by client name,
refusals are counted, and no token ever reaches the logs."""

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ops.bench.metrics_text import sample
from ops.bench.server import Server, start_server
from service import clients as clients_cli
from service.api.metrics import METRICS_KEY
from service.app import runtime_of
from service.auth import PROTECTED_BLUEPRINTS, read_tokens
from service.clients import ENDPOINTS
from service.logs import AUDIT_LOGGER, JsonFormatter, configure_logging
from service.settings import Backend, Settings, SettingsError
from tests.service.conftest import TOKEN, ready_app, served

pytestmark = [pytest.mark.service, pytest.mark.realtime]
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


# --- Named clients and the audit trail ---------------------------------------------------------
SCOPES: dict[str, dict[str, list[str]]] = {
    "alpha": {},  # no limits
    "beta": {"models": ["image-classifier"], "endpoints": ["v2.model_metadata", "v2.infer"]},
    "gamma": {"models": ["image-classifier:9999"]},  # a version this server does not serve
}
METADATA = "/v2/models/image-classifier"


@dataclass(frozen=True)
class ClientsSetup:
    """A clients file made with the CLI's functions, the tokens they printed, its first text."""

    path: Path
    tokens: dict[str, str]
    text: str

    def restore(self) -> None:
        """Put the first content back in one step, as the kubelet updates a mounted Secret."""
        staged = self.path.with_suffix(".restore")
        staged.write_text(self.text)
        os.replace(staged, self.path)


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> ClientsSetup:
    path = tmp_path_factory.mktemp("clients") / "clients.yaml"
    tokens = {
        name: clients_cli.add(path, name, scope.get("models", []), scope.get("endpoints", []))
        for name, scope in SCOPES.items()
    }
    return ClientsSetup(path, tokens, path.read_text())


@pytest.fixture(scope="module")
def clients_app(model_base: Path, clients: ClientsSetup, token_file: Path) -> Flask:
    """LiteRT app with named clients and, beside them, the shared token."""
    return ready_app(
        Settings(
            model_base_path=model_base,
            model_backend=Backend.LITERT,
            auth_clients_file=clients.path,
            auth_token_file=token_file,
        )
    )


@pytest.fixture
def clients_client(clients_app: Flask, clients: ClientsSetup, token_file: Path) -> FlaskClient:
    clients.restore()
    write_tokens(token_file, TOKEN)
    return clients_app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The audit records logged so far, as the JSON lines a log pipeline receives."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == AUDIT_LOGGER]


def refusals(app: Flask, client: str, reason: str) -> float:
    body, _ = app.extensions[METRICS_KEY].exposition()
    return sample(body.decode(), "inference_auth_refusals_total", client=client, reason=reason)


def served_version(app: Flask) -> str:
    artifact = runtime_of(app).artifact
    assert artifact is not None
    return str(artifact.version)


def test_scopes_name_exactly_the_protected_endpoints(clients_app: Flask) -> None:
    protected = {
        rule.endpoint
        for rule in clients_app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in PROTECTED_BLUEPRINTS
    }
    assert protected == ENDPOINTS


def test_two_clients_are_told_apart_in_the_audit_log(
    clients_client: FlaskClient,
    clients: ClientsSetup,
    digit_images: dict[str, bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    alpha = clients_client.post(
        "/predict",
        data=digit_images["3"],
        headers={**bearer(clients.tokens["alpha"]), "Content-Type": "image/png"},
    )
    beta = clients_client.get(METADATA, headers=bearer(clients.tokens["beta"]))
    assert (alpha.status_code, beta.status_code) == (200, 200)
    version = served_version(clients_client.application)
    assert audit_records(caplog) == [
        {
            "time": ANY,
            "level": "info",
            "logger": AUDIT_LOGGER,
            "message": "audit",
            "request_id": alpha.headers["X-Request-ID"],
            "client": "alpha",
            "endpoint": "predict.predict",
            "model": "image-classifier",
            "version": version,
            "status": 200,
            "reason": None,
        },
        {
            "time": ANY,
            "level": "info",
            "logger": AUDIT_LOGGER,
            "message": "audit",
            "request_id": beta.headers["X-Request-ID"],
            "client": "beta",
            "endpoint": "v2.model_metadata",
            "model": "image-classifier",
            "version": version,
            "status": 200,
            "reason": None,
        },
    ]


@pytest.mark.parametrize(
    ("caller", "path", "status", "client", "reason"),
    [
        (None, METADATA, 401, "unknown", "missing_token"),
        ("not-a-client-token-0123456789abcdef", METADATA, 401, "unknown", "unknown_token"),
        ("beta", "/v1/models/image-classifier", 403, "beta", "endpoint_not_allowed"),
        ("gamma", METADATA, 403, "gamma", "model_not_allowed"),
    ],
)
def test_refusals_are_audited_and_counted_per_client_and_reason(
    clients_client: FlaskClient,
    clients: ClientsSetup,
    caplog: pytest.LogCaptureFixture,
    caller: str | None,
    path: str,
    status: int,
    client: str,
    reason: str,
) -> None:
    app = clients_client.application
    before = refusals(app, client, reason)
    headers = {} if caller is None else bearer(clients.tokens.get(caller, caller))
    response = clients_client.get(path, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]
    (record,) = audit_records(caplog)
    assert (record["client"], record["status"], record["reason"]) == (client, status, reason)
    assert record["request_id"] == response.headers["X-Request-ID"]
    assert refusals(app, client, reason) == before + 1


def test_a_scoped_client_keeps_what_its_scope_allows(
    clients_client: FlaskClient, clients: ClientsSetup
) -> None:
    # gamma may not use the served version, but the server metadata names no model.
    assert clients_client.get("/v2", headers=bearer(clients.tokens["gamma"])).status_code == 200
    assert clients_client.get(METADATA, headers=bearer(clients.tokens["beta"])).status_code == 200


def test_the_shared_token_still_works_beside_the_clients(
    clients_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert clients_client.get(METADATA, headers=bearer(TOKEN)).status_code == 200
    assert [r["client"] for r in audit_records(caplog)] == ["shared-token"]


def test_without_auth_every_call_is_audited_as_anonymous(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert client.get(METADATA).status_code == 200
    assert client.get("/v2/health/ready").status_code == 200  # not protected: not audited
    assert [(r["client"], r["endpoint"]) for r in audit_records(caplog)] == [
        ("anonymous", "v2.model_metadata")
    ]


def test_revoke_rotate_and_retire_take_effect_on_the_next_request(
    clients_client: FlaskClient, clients: ClientsSetup
) -> None:
    def status(token: str) -> int:
        return clients_client.get(METADATA, headers=bearer(token)).status_code

    alpha, beta = clients.tokens["alpha"], clients.tokens["beta"]
    clients_cli.revoke(clients.path, "beta")
    assert (status(alpha), status(beta)) == (200, 401)
    rotated = clients_cli.rotate(clients.path, "alpha")
    assert (status(alpha), status(rotated)) == (200, 200)
    clients_cli.retire(clients.path, "alpha")
    assert (status(alpha), status(rotated)) == (401, 200)
    # A broken update keeps the last good clients rather than opening or closing the door.
    clients.path.write_text("clients: [{name: alpha}]\n")
    assert (status(alpha), status(rotated)) == (401, 200)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(authorization=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_any_wrong_credentials_are_refused_as_one_unknown_caller(
    clients_client: FlaskClient, caplog: pytest.LogCaptureFixture, authorization: str
) -> None:
    caplog.clear()
    response = clients_client.get(METADATA, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.get_json()["error"].startswith("missing or wrong bearer token")
    (record,) = audit_records(caplog)
    assert record["client"] == "unknown"
    assert record["reason"] in ("missing_token", "unknown_token")
    body, _ = clients_client.application.extensions[METRICS_KEY].exposition()
    labelled = {
        s.labels["client"]
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
        if s.name == "inference_auth_refusals_total"
    }
    assert labelled <= {*SCOPES, "unknown"}


def test_tokens_never_reach_the_logs(
    clients_client: FlaskClient,
    clients: ClientsSetup,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger().setLevel(logging.DEBUG)  # the most the service would ever log
    try:
        for token in [*clients.tokens.values(), TOKEN, "wrong-token-0123456789abcdef-012345"]:
            for method, path in PROTECTED:
                clients_client.open(path, method=method, headers=bearer(token))
    finally:
        logging.getLogger().setLevel(logging.INFO)
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records) + capsys.readouterr().out
    assert len(audit_records(caplog)) == 5 * len(PROTECTED)
    for token in [*clients.tokens.values(), TOKEN, "wrong-token"]:
        assert token not in logged


def test_audit_records_are_kept_whatever_the_log_level() -> None:
    configure_logging("error")
    try:
        assert logging.getLogger(AUDIT_LOGGER).isEnabledFor(logging.INFO)
    finally:
        configure_logging("info")


@pytest.fixture(scope="module")
def clients_server(
    model_base: Path, clients: ClientsSetup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Gunicorn with two workers, each reading the clients file."""
    log = tmp_path_factory.mktemp("clients-server") / "gunicorn.log"
    variables = {"MODEL_BACKEND": "litert", "GUNICORN_WORKERS": "2"}
    with served(model_base, log, AUTH_CLIENTS_FILE=str(clients.path), **variables) as server:
        yield server


def log_lines(server: Server, start: int = 0) -> list[dict[str, Any]]:
    """The server's JSON log lines from byte `start` on."""
    text = server.log.read_bytes()[start:].decode(errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_under_gunicorn_clients_are_told_apart_and_a_revoked_one_is_refused_by_every_worker(
    clients_server: Server, clients: ClientsSetup
) -> None:
    clients.restore()
    answered = {
        name: clients_server.get(METADATA, headers=bearer(clients.tokens[name]))
        for name in ("alpha", "beta")
    }
    assert [r.status_code for r in answered.values()] == [200, 200]
    mark = clients_server.log.stat().st_size
    clients_cli.revoke(clients.path, "beta")
    workers = len(clients_server.worker_pids())
    # Each worker notes the change once; ask until every one has, all refused meanwhile.
    for _ in range(200):
        response = clients_server.get(METADATA, headers=bearer(clients.tokens["beta"]))
        assert response.status_code == 401, response.text
        rereads = [r for r in log_lines(clients_server, mark) if r["message"].startswith("re-read")]
        if len(rereads) == workers:
            break
    else:
        raise AssertionError(f"not every worker re-read the file:\n{clients_server.tail()}")
    alpha = clients_server.get(METADATA, headers=bearer(clients.tokens["alpha"]))
    assert alpha.status_code == 200
    audit = {r["request_id"]: r for r in log_lines(clients_server) if r["logger"] == AUDIT_LOGGER}
    assert [audit[r.headers["X-Request-ID"]]["client"] for r in answered.values()] == [
        "alpha",
        "beta",
    ]
    assert audit[response.headers["X-Request-ID"]]["reason"] == "unknown_token"
    metrics = clients_server.get("/metrics").text
    assert sample(metrics, "inference_auth_refusals_total", client="unknown") >= 1
    text = clients_server.log.read_text()
    assert not [token for token in clients.tokens.values() if token in text]


def test_gunicorn_refuses_to_start_with_a_bad_clients_file(
    model_base: Path, tmp_path: Path
) -> None:
    clients_file = tmp_path / "clients.yaml"
    clients_file.write_text("clients:\n- name: partner\n  tokenSha256: [the-token-itself]\n")
    log = tmp_path / "gunicorn.log"
    with start_server(model_base, log, AUTH_CLIENTS_FILE=str(clients_file)) as server:
        assert server.process.wait(timeout=30) != 0
    text = log.read_text()
    assert f"AUTH_CLIENTS_FILE={clients_file}: clients.0.tokenSha256.0: String should" in text
