"""A stack's named clients: secret config `authClients` (as `python -m service.clients export`
prints it), validated once with a message naming the key and the stack file, released as the
chart's auth.clients without ever leaving the secret."""

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from envconfig import PROJECT
from infra.config import ConfigError
from service.clients import add, export, load_clients
from tests.chart.helm import manifests, one, template, write_values
from tests.fixtures.image_record import write_image_record
from tests.pulumi.harness import SECRET_SIG, SIG_KEY, Recording, run_program, stack_config

pytestmark = pytest.mark.pulumi

RELEASE = "kubernetes:helm.sh/v3:Release"
STACK = "prod"


@pytest.fixture
def exported(tmp_path: Path) -> str:
    """Two clients made with the CLI, exported as the JSON a stack keeps in `authClients`."""
    clients = tmp_path / "clients.yaml"
    add(clients, "partner-a", ["image-classifier:3"], ["v2.infer"])
    add(clients, "partner-b", [], [])
    return export(clients)


def deploy(
    tmp_path: Path, auth: dict[str, Any], secrets: dict[str, str], **config: Any
) -> Recording:
    """The prod stack with its chart's auth section replaced by `auth`."""
    stack = stack_config(STACK)
    chart = {**stack[f"{PROJECT}:chart"], "auth": auth}
    stack |= {
        f"{PROJECT}:chart": chart,
        f"{PROJECT}:imageRecord": str(write_image_record(tmp_path)),
    }
    stack |= {f"{PROJECT}:{key}": value for key, value in config.items()}
    return run_program(STACK, stack, secrets)


CLIENTS_MODE = {"enabled": True, "mode": "clients"}


def test_clients_reach_the_release_as_a_secret_and_render_the_file_the_service_reads(
    tmp_path: Path, exported: str
) -> None:
    release = deploy(tmp_path, CLIENTS_MODE, {"authClients": exported}).one(RELEASE)
    assert release.wire["values"]["auth"]["clients"] == {
        SIG_KEY: SECRET_SIG,
        "value": json.loads(exported),
    }
    docs = manifests(template([write_values(release.inputs["values"], tmp_path)]))
    secret = one(docs, "Secret", "image-classifier-auth")
    mounted = tmp_path / "mounted.yaml"
    mounted.write_bytes(base64.b64decode(secret["data"]["clients.yaml"]))
    assert [c.name for c in load_clients(mounted).clients] == ["partner-a", "partner-b"]


@pytest.mark.parametrize(
    ("auth", "secrets", "config", "expected"),
    [
        (CLIENTS_MODE, {}, {}, "sets auth.mode: clients but 'image-classifier:authClients' is not"),
        (
            CLIENTS_MODE,
            {},
            {"authClients": "EXPORTED"},
            "'image-classifier:authClients' is in clear",
        ),
        (
            {"enabled": True},
            {"authToken": "t" * 32, "authClients": "EXPORTED"},
            {},
            "'image-classifier:authClients' is set but 'image-classifier:chart' does not set",
        ),
        (
            CLIENTS_MODE,
            {"authClients": '[{"name": "partner", "tokenSha256": ["the-token"]}]'},
            {},
            "'image-classifier:authClients': clients.0.tokenSha256.0: String should match",
        ),
    ],
    ids=["missing", "clear-text", "token-mode", "bad-entry"],
)
def test_bad_clients_config_names_the_key_and_the_stack_file(
    tmp_path: Path,
    exported: str,
    auth: dict[str, Any],
    secrets: dict[str, str],
    config: dict[str, str],
    expected: str,
) -> None:
    secrets = {k: exported if v == "EXPORTED" else v for k, v in secrets.items()}
    config = {k: exported if v == "EXPORTED" else v for k, v in config.items()}
    with pytest.raises(ConfigError) as raised:
        deploy(tmp_path, auth, secrets, **config)
    assert expected in str(raised.value)
    assert f"environments/Pulumi.{STACK}.yaml" in str(raised.value)
