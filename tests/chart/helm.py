"""Run the pinned helm binaries on chart/ and read what they render."""

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from envconfig import load_environment
from infra.config import GkeClusterConfig
from infra.gke_https import gateway_values
from infra.values import CHART_DIR, release_values
from modelartifact.encryption import encode_data_key
from ops.toolchain.paths import bin_dir
from tests.fixtures.image_record import DATA_KEY, sample_image

HELM_BINARIES = ("helm", "helm4")
RELEASE = "image-classifier"

# What the Pulumi program releases besides the stack file: a built image (model version 3), the
# token a stack's encrypted `authToken` holds (the chart ignores it unless auth is enabled) and
# the data key the image's model is encrypted with (from the build host's key directory).
RELEASED_IMAGE = sample_image(model_version=3)
AUTH_TOKEN = "token-from-pulumi-secret-0123456789abcdef"
MODEL_DATA_KEY = encode_data_key(DATA_KEY)


# Rendered manifests: one dict per Kubernetes object.
Docs = list[dict[str, Any]]


class HelmError(RuntimeError):
    """helm exited non-zero; the message holds its stderr."""


def helm(*args: str, binary: str = "helm", kubeconfig: Path | None = None) -> str:
    """Run a pinned helm and return stdout; raise HelmError with its output when it fails."""
    command = [str(bin_dir() / binary), *args]
    if kubeconfig is not None:
        command += ["--kubeconfig", str(kubeconfig)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # `helm lint` reports its findings on stdout, the other commands on stderr.
        raise HelmError(
            f"{' '.join(command)} failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def environment_values(environment: str) -> dict[str, Any]:
    """The values the Pulumi program releases `environment` with (infra/values.py), the
    Gateway's names included where a GKE stack asks for HTTPS (infra/gke_https.py)."""
    stack = load_environment(environment)
    chart = stack.chart
    if stack.cluster.get("kind") == "gke":
        chart = gateway_values(chart, GkeClusterConfig.model_validate(stack.cluster), environment)
    return release_values(chart, RELEASED_IMAGE, AUTH_TOKEN, MODEL_DATA_KEY)


def write_values(values: dict[str, Any], directory: Path, name: str = "values") -> Path:
    """Write a values file for `helm -f`."""
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def template(
    values_files: Sequence[Path] = (),
    *extra: str,
    binary: str = "helm",
    release: str = RELEASE,
) -> str:
    """`helm template` of chart/ (tests included) with the given values files."""
    files = [arg for path in values_files for arg in ("-f", str(path))]
    return helm("template", release, str(CHART_DIR), *files, *extra, binary=binary)


def manifests(rendered: str) -> Docs:
    """The non-empty documents of a rendered stream."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def by_kind(docs: Docs, kind: str) -> Docs:
    """The documents of one kind."""
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: Docs, kind: str, name: str | None = None) -> dict[str, Any]:
    """The single document of `kind` (named `name` when given)."""
    found = [doc for doc in by_kind(docs, kind) if name is None or doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} named {name or 'anything'}, got {len(found)}"
    return found[0]
