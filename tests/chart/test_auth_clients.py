"""Named clients in the chart: `auth.mode: clients` renders the clients file the service reads
(from the chart's values or an existing Secret), the schema admits only entries the service
accepts, inconsistent values fail naming the keys, and the helm test's script passes against
a real server only when a call without a token is refused."""

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema

from service.clients import ENDPOINTS, RESERVED_NAMES, load_clients, parse_clients, token_sha256
from service.clients import add as add_client
from service.settings import Settings
from tests.chart.helm import (
    CHART_DIR,
    HELM_BINARIES,
    HelmError,
    by_kind,
    manifests,
    one,
    template,
    write_values,
)
from tests.service.conftest import served

pytestmark = [pytest.mark.chart, pytest.mark.realtime]

FULLNAME = "image-classifier"
SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())
CLIENT_SCHEMA = SCHEMA["definitions"]["authClient"]


def render(tmp_path: Path, auth: dict[str, Any], *extra: str) -> list[dict[str, Any]]:
    values = write_values({"auth": {"enabled": True, "mode": "clients", **auth}}, tmp_path)
    return manifests(template([values], *extra))


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def settings_of(docs: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = one(docs, "ConfigMap", FULLNAME)["data"]
    return data


def test_clients_from_values_become_the_mounted_file_the_service_reads(tmp_path: Path) -> None:
    made = tmp_path / "made.yaml"
    token = add_client(made, "partner-a", ["image-classifier:3"], ["v2.infer"])
    add_client(made, "partner-b", [], [])
    entries = yaml.safe_load(made.read_text())["clients"]
    docs = render(tmp_path, {"clients": entries})
    secret = one(docs, "Secret", f"{FULLNAME}-auth")
    mounted = tmp_path / "clients.yaml"
    mounted.write_bytes(base64.b64decode(secret["data"]["clients.yaml"]))
    assert load_clients(mounted) == load_clients(made)
    assert load_clients(mounted).by_token_hash()[token_sha256(token.encode())].name == "partner-a"
    mount = {m["name"]: m["mountPath"] for m in pod_spec(docs)["containers"][0]["volumeMounts"]}
    settings = settings_of(docs)
    assert settings["AUTH_CLIENTS_FILE"] == f"{mount['auth-token']}/clients.yaml"
    assert "AUTH_TOKEN_FILE" not in settings
    assert "auth_clients_file" in Settings.model_fields


def test_clients_from_an_existing_secret_are_mounted_and_no_secret_is_made(
    tmp_path: Path,
) -> None:
    docs = render(tmp_path, {"existingSecret": "partners", "clientsKey": "list.yaml"})
    assert by_kind(docs, "Secret") == []
    [volume] = [v for v in pod_spec(docs)["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "partners"
    assert volume["secret"]["items"] == [{"key": "list.yaml", "path": "list.yaml"}]
    assert settings_of(docs)["AUTH_CLIENTS_FILE"].endswith("/list.yaml")


def test_helm_test_checks_that_a_call_without_a_token_is_refused(tmp_path: Path) -> None:
    docs = render(tmp_path, {"existingSecret": "partners"})
    pod = one(docs, "Pod", f"{FULLNAME}-smoke-test")
    [container] = pod["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    # It holds no client's token (the Secret has only hashes), so it mounts nothing of auth.
    assert env["AUTH_CLIENTS"] == "true" and "AUTH_TOKEN_FILE" not in env
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["scripts", "tmp"]


@pytest.mark.parametrize("clients_on", [True, False], ids=["clients", "auth-off"])
def test_the_helm_test_script_passes_only_when_a_call_without_a_token_is_refused(
    tmp_path: Path, local_model: Path, clients_on: bool
) -> None:
    docs = render(tmp_path, {"existingSecret": "partners"})
    script = tmp_path / "smoke_test.py"
    script.write_text(one(docs, "ConfigMap", f"{FULLNAME}-smoke-test")["data"]["smoke_test.py"])
    clients = tmp_path / "clients.yaml"
    add_client(clients, "partner", [], [])
    auth = {"AUTH_CLIENTS_FILE": str(clients)} if clients_on else {}
    log = tmp_path / "gunicorn.log"
    with served(local_model.parent.parent, log, MODEL_BACKEND="litert", **auth) as server:
        env = {"BASE_URL": server.url, "MODEL_NAME": "image-classifier", "AUTH_CLIENTS": "true"}
        result = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
    assert (result.returncode == 0) is clients_on, result.stdout + result.stderr
    if clients_on:
        assert "POST /predict without a token: 401" in result.stdout
        assert "smoke test passed" in result.stdout


def test_pods_roll_when_the_chart_clients_change(tmp_path: Path) -> None:
    def checksum(digest: str) -> str:
        docs = render(tmp_path, {"clients": [{"name": "p", "tokenSha256": [digest]}]})
        annotations = one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        return str(annotations["checksum/auth"])

    assert checksum("a" * 64) != checksum("b" * 64)


CLIENT = {"name": "p", "tokenSha256": ["a" * 64]}


@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ({}, "auth.enabled is true but neither auth.existingSecret nor auth.clients is set"),
        (
            {"clients": [CLIENT], "token": "t"},
            "auth.token is set but auth.mode is clients: set auth.mode=token or remove auth.token",
        ),
        ({"mode": "token", "token": "t", "clients": [CLIENT]}, "auth.clients is set but auth"),
        ({"clients": [CLIENT, {**CLIENT, "tokenSha256": ["b" * 64]}]}, '"p" appears twice'),
        ({"clients": [{**CLIENT, "name": "unknown"}]}, "/auth/clients/0/name"),
        ({"clients": [{**CLIENT, "tokenSha256": ["the-token"]}]}, "/auth/clients/0/tokenSha256/0"),
        ({"clients": [{**CLIENT, "endpoints": ["v2.x"]}]}, "/auth/clients/0/endpoints/0"),
        ({"clients": [{**CLIENT, "token": "x"}]}, "additional properties 'token'"),
        ({"mode": "both"}, "/auth/mode"),
    ],
    ids=[
        "clients-without-source",
        "token-in-clients-mode",
        "clients-in-token-mode",
        "duplicate-names",
        "reserved-name",
        "token-instead-of-hash",
        "unknown-endpoint",
        "clear-token-field",
        "unknown-mode",
    ],
)
def test_inconsistent_client_values_fail_naming_the_key(
    tmp_path: Path, binary: str, auth: dict[str, Any], words: str
) -> None:
    values = write_values({"auth": {"enabled": True, "mode": "clients", **auth}}, tmp_path)
    with pytest.raises(HelmError) as failure:
        template([values], binary=binary)
    assert words in str(failure.value)


def test_the_schema_names_the_service_endpoints_and_reserved_names() -> None:
    properties = CLIENT_SCHEMA["properties"]
    assert set(properties["endpoints"]["items"]["enum"]) == ENDPOINTS
    assert set(properties["name"]["not"]["enum"]) == RESERVED_NAMES


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(entry=from_schema(CLIENT_SCHEMA))
def test_every_client_the_schema_admits_the_service_accepts(entry: dict[str, Any]) -> None:
    parse_clients({"clients": [entry]}, "chart value")
