"""The cluster the release goes to, whatever its kind, and the one Kubernetes provider for it."""

import os
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.artifact_registry import ArtifactRegistry, registry_host
from infra.config import (
    ClusterConfig,
    ConfigError,
    ExistingClusterConfig,
    GkeClusterConfig,
    LocalClusterConfig,
)
from infra.gke import GkeCluster
from infra.gke_https import GkeHttpsFrontend
from infra.gke_kms import ModelKeyKms
from infra.local_cluster_provider import LocalControlPlane
from ops.localcluster.layout import REGISTRY as LOCAL_REGISTRY


class Cluster(pulumi.ComponentResource):
    """A `local`, `existing` or `gke` cluster; `provider` targets it (pass it to k8s resources)."""

    kind: str
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider
    # Where the cluster pulls the release's image from (None: the image is released as built).
    registry: str | None = None
    # A registry on this machine speaks plain HTTP on loopback.
    registry_insecure: bool = False
    # `user:password` for pushing (a secret); None: the pusher's own login (skopeo/podman).
    registry_credentials: pulumi.Output[str] | None = None
    # GKE with `https`: the load balancer's address and the certificate's DNS records.
    https: GkeHttpsFrontend | None = None
    # GKE: the KMS key that wraps the cluster's Secrets and a copy of the model's data key.
    kms: ModelKeyKms | None = None

    def __init__(
        self, name: str, config: ClusterConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("image-classifier:infra:Cluster", name, None, opts)
        self.kind = config.kind
        context: str | None = None
        child = pulumi.ResourceOptions(parent=self)
        if isinstance(config, LocalClusterConfig):
            control_plane = LocalControlPlane(f"{name}-control-plane", opts=child)
            self.kubeconfig = pulumi.Output.secret(control_plane.kubeconfig)
            self.registry, self.registry_insecure = LOCAL_REGISTRY, True
        elif isinstance(config, ExistingClusterConfig):
            self.kubeconfig = pulumi.Output.secret(_read_kubeconfig(config))
            context = config.context
            self.registry, self.registry_insecure = config.registry, config.registryInsecure
        elif isinstance(config, GkeClusterConfig):
            gke = GkeCluster(f"{name}-gke", config, opts=child)
            self.kubeconfig = gke.kubeconfig
            self.https = gke.https
            self.kms = gke.kms
            registry = ArtifactRegistry(
                f"{name}-registry",
                config,
                reader=gke.node_service_account.member,
                gcp_provider=gke.gcp_provider,
                opts=child,
            )
            self.registry = registry_host(config)
            self.registry_credentials = registry.push_credentials
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=context,
            opts=child,
        )
        self.register_outputs({"kind": self.kind, "kubeconfig": self.kubeconfig})


def loopback_url(values: dict[str, Any]) -> str | None:
    """http://127.0.0.1:PORT when the release's Service is a NodePort (local: loopback only)."""
    service = values.get("service") or {}
    if service.get("type") == "NodePort" and service.get("nodePort"):
        return f"http://127.0.0.1:{service['nodePort']}"
    return None


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
