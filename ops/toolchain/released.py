"""Released binaries already on the user's machine, used instead of building when their
versions are the pinned ones.

A tool qualifies only if every binary it provides is found and answers its version probe with
the pinned version; tools this project patches (or builds from its own source), and the
Kubernetes provider (which reports no version), never do.
"""

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ops.toolchain import versions
from ops.toolchain.paths import bin_dir


@dataclass(frozen=True)
class Probe:
    """How to ask a binary its version, and what the pinned one answers."""

    args: tuple[str, ...]
    expected: str


PROBES: Mapping[str, Probe] = {
    "helm": Probe(("version",), f'Version:"v{versions.HELM3}"'),
    "helm4": Probe(("version",), f'Version:"v{versions.HELM4}"'),
    "pulumi": Probe(("version",), f"v{versions.PULUMI}"),
    "kube-apiserver": Probe(("--version",), f"Kubernetes v{versions.KUBERNETES}"),
    "kube-controller-manager": Probe(("--version",), f"Kubernetes v{versions.KUBERNETES}"),
    "kube-scheduler": Probe(("--version",), f"Kubernetes v{versions.KUBERNETES}"),
    "kubectl": Probe(("version", "--client"), f"Client Version: v{versions.KUBERNETES}"),
    "kubelet": Probe(("--version",), f"Kubernetes v{versions.KUBERNETES}"),
    "kube-proxy": Probe(("--version",), f"Kubernetes v{versions.KUBERNETES}"),
    "etcd": Probe(("--version",), f"etcd Version: {versions.ETCD}"),
    "containerd": Probe(("--version",), f"v{versions.CONTAINERD}"),
    "containerd-shim-runc-v2": Probe(("-v",), f"v{versions.CONTAINERD}"),
    "ctr": Probe(("--version",), f"v{versions.CONTAINERD}"),
    "coredns": Probe(("-version",), f"CoreDNS-{versions.COREDNS}"),
    "registry": Probe(("--version",), f"v{versions.DISTRIBUTION}"),
    "metrics-server": Probe(("--version",), f"v{versions.METRICS_SERVER}"),
    "kube-score": Probe(("version",), f"kube-score version: {versions.KUBE_SCORE}"),
}


def answers(binary: Path, probe: Probe) -> bool:
    """Whether `binary` runs and reports the pinned version."""
    try:
        result = subprocess.run(
            [str(binary), *probe.args], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.expected in result.stdout + result.stderr


def search_path(environ: Mapping[str, str] | None = None) -> list[Path]:
    """PATH without the project's own bin dir."""
    path = (environ if environ is not None else os.environ).get("PATH", "")
    dirs = [Path(entry) for entry in path.split(os.pathsep) if entry]
    return [entry for entry in dirs if entry.resolve() != bin_dir().resolve()]


def find_released(
    binaries: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> dict[str, Path] | None:
    """Each of `binaries` found with its pinned version, or None if any is missing or off."""
    if any(binary not in PROBES for binary in binaries):
        return None
    found: dict[str, Path] = {}
    search = os.pathsep.join(str(entry) for entry in search_path(environ))
    for binary in binaries:
        located = shutil.which(binary, path=search)
        if located is None or not answers(Path(located), PROBES[binary]):
            return None
        found[binary] = Path(located)
    return found
