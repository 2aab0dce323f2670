"""Run the pinned kubectl against the local cluster and read objects back."""

import json
import subprocess
from pathlib import Path
from typing import Any

from ops.toolchain.paths import bin_dir


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message holds its stderr."""


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    """Run kubectl with `kubeconfig` and return stdout; raise KubectlError when it fails."""
    command = [str(bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KubectlError(
            f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stderr}"
        )
    return result.stdout


def get(kubeconfig: Path, namespace: str, kind: str, name: str) -> dict[str, Any]:
    """One object as the API server stores it."""
    return json.loads(kubectl(kubeconfig, "get", kind, name, "-n", namespace, "-o", "json"))


def names(kubeconfig: Path, namespace: str, kinds: str, selector: str) -> list[str]:
    """`kind/name` of the objects of `kinds` (comma-separated) matching a label selector."""
    output = kubectl(kubeconfig, "get", kinds, "-n", namespace, "-l", selector, "-o", "name")
    return sorted(output.split())
