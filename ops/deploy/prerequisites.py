"""What `make up ENV=...` needs before it trains or builds anything, checked in seconds.

Each check returns the problems it found, each naming what is missing and the command that
fixes it; `make up` stops before any slow step when there is one.
"""

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from envconfig import Environment
from ops.deploy.pulumi_cli import secrets_provider
from ops.toolchain.install import LOCAL_STACK_PASSPHRASE

# Where Google's client libraries (and so the Pulumi GCP provider) find credentials.
GCP_CREDENTIAL_VARIABLES = ("GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS")
ADC_FILE = Path.home() / ".config" / "gcloud" / "application_default_credentials.json"


class PrerequisiteError(RuntimeError):
    """One or more prerequisites are missing; the message lists each with its fix."""


def check(environment: Environment, env: Mapping[str, str] | None = None) -> None:
    """Raise PrerequisiteError listing every missing prerequisite of `environment`."""
    variables = dict(os.environ if env is None else env)
    checks: dict[str, Callable[[Environment, dict[str, str]], list[str]]] = {
        "local": _local,
        "existing": _existing,
        "gke": _gke,
    }
    kind = str(environment.cluster.get("kind"))
    problems = _passphrase(environment, variables) + checks[kind](environment, variables)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise PrerequisiteError(
            f"`make up ENV={environment.name}` cannot start; missing:\n{listed}"
        )


def _passphrase(environment: Environment, variables: dict[str, str]) -> list[str]:
    """Every stack but local encrypts its secrets with your passphrase or a KMS key."""
    if environment.name == "local" or secrets_provider(environment.path):
        return []
    passphrase = variables.get("PULUMI_CONFIG_PASSPHRASE") or variables.get(
        "PULUMI_CONFIG_PASSPHRASE_FILE"
    )
    if not passphrase:
        return [
            f"a passphrase for the {environment.name} stack's secrets: "
            "export PULUMI_CONFIG_PASSPHRASE=... (keep it out of the repository)"
        ]
    if variables.get("PULUMI_CONFIG_PASSPHRASE") == LOCAL_STACK_PASSPHRASE:
        return [
            f"a passphrase of your own for {environment.name}: '{LOCAL_STACK_PASSPHRASE}' is the "
            "repository's, for the local stack only; export PULUMI_CONFIG_PASSPHRASE=..."
        ]
    return []


def _local(environment: Environment, variables: dict[str, str]) -> list[str]:
    if os.geteuid() != 0:
        return [
            "root: the local cluster creates a bridge, iptables rules and cgroups; "
            "run `sudo make up` (or as root)"
        ]
    return []


def _existing(environment: Environment, variables: dict[str, str]) -> list[str]:
    cluster = environment.cluster
    where = f"{environment.path.name} image-classifier:cluster"
    kubeconfig = Path(
        cluster.get("kubeconfig") or variables.get("KUBECONFIG") or Path.home() / ".kube/config"
    ).expanduser()
    problems = []
    if not kubeconfig.is_file():
        problems.append(
            f"a kubeconfig: {kubeconfig} does not exist; set `kubeconfig` in {where} "
            "or export KUBECONFIG"
        )
    registry = cluster.get("registry")
    if not registry:
        problems.append(f"the registry the cluster pulls from: set `registry` in {where}")
    elif not cluster.get("registryInsecure") and not _logged_in(str(registry)):
        host = str(registry).split("/", 1)[0]
        problems.append(f"credentials for {host}: run `skopeo login {host}` (or podman login)")
    return problems


def _gke(environment: Environment, variables: dict[str, str]) -> list[str]:
    problems = []
    if not any(variables.get(name) for name in GCP_CREDENTIAL_VARIABLES) and not ADC_FILE.is_file():
        problems.append(
            "Google Cloud credentials: run `gcloud auth application-default login`, or export "
            "GOOGLE_APPLICATION_CREDENTIALS=<service account key file>"
        )
    if not environment.cluster.get("project"):
        problems.append(
            f"the GCP project: set `project` in {environment.path.name} image-classifier:cluster"
        )
    return problems


def _logged_in(registry: str) -> bool:
    """Whether skopeo has credentials for the registry's host (auth.json or docker config)."""
    if shutil.which("skopeo") is None:
        return False
    host = registry.split("/", 1)[0]
    result = subprocess.run(
        ["skopeo", "login", "--get-login", host], capture_output=True, text=True, check=False
    )
    return result.returncode == 0
