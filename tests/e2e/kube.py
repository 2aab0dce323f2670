"""kubectl and helm against the local cluster, and the release's objects read back through them."""

import json
import subprocess
from pathlib import Path
from typing import Any

from ops.toolchain.paths import bin_dir


def kubectl_command(kubeconfig: Path) -> list[str]:
    return [str(bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig)]


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    """Run kubectl; fail with its stderr."""
    result = subprocess.run(
        [*kubectl_command(kubeconfig), *args],
        input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def helm(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(bin_dir() / "helm"), "--kubeconfig", str(kubeconfig), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def deployment(kubeconfig: Path, outputs: dict) -> dict[str, Any]:
    """The release's Deployment, named by the stack's outputs."""
    name, namespace = outputs["releaseName"], outputs["releaseNamespace"]
    return dict(
        json.loads(kubectl(kubeconfig, "get", "deployment", name, "-n", namespace, "-o", "json"))
    )


def release_pods(kubeconfig: Path, outputs: dict) -> list[dict[str, Any]]:
    """The release's server pods (not the `helm test` pod), running or not."""
    selector = (
        f"app.kubernetes.io/instance={outputs['releaseName']},app.kubernetes.io/component!=test"
    )
    listing = kubectl(
        kubeconfig, "get", "pods", "-n", outputs["releaseNamespace"], "-l", selector, "-o", "json"
    )
    return list(json.loads(listing)["items"])
