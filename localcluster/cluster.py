"""Start and stop a kwok cluster whose control plane runs as local processes.

kube-apiserver, kube-controller-manager, kube-scheduler and etcd are the real programs,
built by toolchain/; kwok-controller plays the kubelet of simulated nodes, so Deployments
become Ready but no container runs (the image itself is exercised with podman instead).
"""

import os
import subprocess
import time
from pathlib import Path

from toolchain import versions
from toolchain.install import kubeconfig_path
from toolchain.paths import bin_dir, cache_root

CLUSTER_NAME = "image-classifier"
READY_TIMEOUT_SECONDS = 180


class ClusterError(RuntimeError):
    """The local control plane could not be started, reached or stopped."""


class LocalCluster:
    """One named kwok cluster with state under ~/.cache/image-classifier/cluster."""

    def __init__(self, name: str = CLUSTER_NAME, nodes: int = 2) -> None:
        self.name = name
        self.nodes = nodes
        self.kubeconfig_path: Path = kubeconfig_path()
        self.workdir: Path = cache_root() / "cluster" / "kwok"

    def up(self) -> Path:
        """Create the cluster unless it answers already; wait for Ready nodes; return kubeconfig."""
        if self.is_running():
            return self.kubeconfig_path
        if self._state_dir().exists():
            # Left over from a machine restart or a killed session: processes are gone.
            self._kwokctl("delete", "cluster")
        self.kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        self._kwokctl(
            "create",
            "cluster",
            "--runtime",
            "binary",
            "--kubeconfig",
            str(self.kubeconfig_path),
            "--wait",
            f"{READY_TIMEOUT_SECONDS}s",
        )
        # Simulated nodes advertise no ephemeral-storage; the chart's pods request some.
        self._kwokctl(
            "scale",
            "node",
            "--replicas",
            str(self.nodes),
            "--param",
            '.allocatable["ephemeral-storage"]="100Gi"',
        )
        self.kubectl(
            "wait", "--for=condition=Ready", "node", "--all", f"--timeout={READY_TIMEOUT_SECONDS}s"
        )
        return self.kubeconfig_path

    def down(self) -> None:
        """Delete the cluster and its processes; a cluster that is not there is fine."""
        if self._state_dir().exists():
            self._kwokctl("delete", "cluster")
        self._wait_for_no_processes()
        self.kubeconfig_path.unlink(missing_ok=True)

    def is_running(self) -> bool:
        """True when the API server answers /readyz through the kubeconfig."""
        if not self.kubeconfig_path.exists() or not self._state_dir().exists():
            return False
        result = subprocess.run(
            [str(bin_dir() / "kubectl"), "get", "--raw", "/readyz", "--request-timeout=5s"],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0 and result.stdout.strip() == "ok"

    def processes(self) -> list[str]:
        """Command lines of live processes started for this cluster (found by its workdir)."""
        marker = str(self._state_dir())
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline.strip())
        return found

    def kubectl(self, *args: str) -> str:
        """Run the pinned kubectl against this cluster and return its stdout."""
        return self._run([str(bin_dir() / "kubectl"), *args])

    def _state_dir(self) -> Path:
        return self.workdir / "clusters" / self.name

    def _wait_for_no_processes(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.processes():
            if time.monotonic() > deadline:
                raise ClusterError(f"processes still running after delete: {self.processes()}")
            time.sleep(0.5)

    def _kwokctl(self, *args: str) -> str:
        return self._run([str(bin_dir() / "kwokctl"), "--name", self.name, *args])

    def _env(self) -> dict[str, str]:
        binaries = bin_dir()
        return dict(
            os.environ,
            KUBECONFIG=str(self.kubeconfig_path),
            KWOK_WORKDIR=str(self.workdir),
            KWOK_RUNTIME="binary",
            KWOK_KUBE_VERSION=f"v{versions.KUBERNETES}",
            KWOK_KUBE_APISERVER_BINARY=str(binaries / "kube-apiserver"),
            KWOK_KUBE_CONTROLLER_MANAGER_BINARY=str(binaries / "kube-controller-manager"),
            KWOK_KUBE_SCHEDULER_BINARY=str(binaries / "kube-scheduler"),
            KWOK_KUBECTL_BINARY=str(binaries / "kubectl"),
            KWOK_CONTROLLER_BINARY=str(binaries / "kwok"),
            KWOK_ETCD_BINARY=str(binaries / "etcd"),
            KWOK_ETCD_VERSION=versions.ETCD,
        )

    def _run(self, command: list[str]) -> str:
        result = subprocess.run(
            command, env=self._env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ClusterError(
                f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stderr.strip()}"
            )
        return result.stdout
