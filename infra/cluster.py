"""The cluster the release goes to, whatever its kind, and the one Kubernetes provider for it."""

import os
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from infra.config import (
    ClusterConfig,
    ConfigError,
    ExistingClusterConfig,
    GkeClusterConfig,
    LocalClusterConfig,
)
from infra.gke import GkeCluster
from infra.local_cluster_provider import LocalControlPlane


class Cluster(pulumi.ComponentResource):
    """A `local`, `existing` or `gke` cluster; `provider` targets it (pass it to k8s resources)."""

    kind: str
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, config: ClusterConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("image-classifier:infra:Cluster", name, None, opts)
        self.kind = config.kind
        context: str | None = None
        child = pulumi.ResourceOptions(parent=self)
        if isinstance(config, LocalClusterConfig):
            control_plane = LocalControlPlane(f"{name}-control-plane", config.nodes, opts=child)
            self.kubeconfig = pulumi.Output.secret(control_plane.kubeconfig)
        elif isinstance(config, ExistingClusterConfig):
            self.kubeconfig = pulumi.Output.secret(_read_kubeconfig(config))
            context = config.context
        elif isinstance(config, GkeClusterConfig):
            self.kubeconfig = GkeCluster(f"{name}-gke", config, opts=child).kubeconfig
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=context,
            opts=child,
        )
        self.register_outputs({"kind": self.kind, "kubeconfig": self.kubeconfig})


def _read_kubeconfig(config: ExistingClusterConfig) -> str:
    """Contents of the configured kubeconfig, else $KUBECONFIG's, else ~/.kube/config's."""
    path = Path(
        config.kubeconfig or os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config"
    ).expanduser()
    try:
        return path.read_text()
    except OSError as error:
        raise ConfigError(
            f"cannot read kubeconfig {path} ({error.strerror}); set "
            "'image-classifier:cluster.kubeconfig' in the stack file or export KUBECONFIG"
        ) from None
