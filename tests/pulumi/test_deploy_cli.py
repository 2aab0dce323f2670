"""`python -m ops.deploy` (`make up` / `make down`) refuses unknown environments clearly."""

import subprocess
import sys

import pytest

from envconfig import REPO_ROOT, known_environments
from ops.deploy.pulumi_cli import secrets_provider

pytestmark = pytest.mark.pulumi


@pytest.mark.parametrize("action", ["up", "down"])
def test_unknown_environment_lists_the_known_ones(action: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ops.deploy", action, "--env", "nosuch"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown environment 'nosuch'" in result.stderr
    assert f"known: {', '.join(known_environments())}" in result.stderr


def deploy_up(env: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`python -m ops.deploy up --env ENV` with a clean environment plus `variables`."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **variables}
    return subprocess.run(
        [sys.executable, "-m", "ops.deploy", "up", "--env", env],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_cloud_stack_without_credentials_stops_at_once_naming_the_fix(env: str) -> None:
    result = deploy_up(env, PYTHONPATH=str(REPO_ROOT))
    assert result.returncode == 2
    assert "gcloud auth application-default login" in result.stderr
    # Its secrets are sealed by the Cloud KMS key its stack file names, not by a passphrase.
    assert secrets_provider(REPO_ROOT / "environments" / f"Pulumi.{env}.yaml") == (
        f"gcpkms://projects/image-classifier-{env}/locations/europe-west1/keyRings/pulumi"
        f"/cryptoKeys/stack-secrets-{env}"
    )
    assert "PULUMI_CONFIG_PASSPHRASE" not in result.stderr
    # Nothing slow started: no training, no image build, no engine.
    assert "model" not in result.stderr.split("missing:")[0]


def test_dev_without_a_passphrase_stops_naming_the_stack_and_the_command() -> None:
    result = deploy_up("dev", PYTHONPATH=str(REPO_ROOT))
    assert result.returncode == 2
    assert (
        "a passphrase for the dev stack's secrets: export PULUMI_CONFIG_PASSPHRASE=..."
        in result.stderr
    )


def test_dev_refuses_the_repositorys_local_passphrase() -> None:
    result = deploy_up("dev", PYTHONPATH=str(REPO_ROOT), PULUMI_CONFIG_PASSPHRASE="local-only")
    assert result.returncode == 2
    assert "'local-only' is the repository's, for the local stack only" in result.stderr
    assert "KUBECONFIG" in result.stderr  # no kubeconfig either, in this empty environment
