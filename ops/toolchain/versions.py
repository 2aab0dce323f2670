"""Pinned versions of every tool the project builds or installs; the one place to bump them."""

from typing import Final

KUBERNETES: Final = "1.36.3"
ETCD: Final = "3.6.16"
HELM3: Final = "3.22.0"
HELM4: Final = "4.3.1"
KUBE_SCORE: Final = "1.20.0"

# The real node of the local cluster: kubelet and kube-proxy are KUBERNETES; these run beside.
# containerd 2.3+ needs a newer Go than 1.26.8; 2.2 is the newest line that builds here.
CONTAINERD: Final = "2.2.9"
COREDNS: Final = "1.14.7"
# CNCF Distribution: the local cluster's OCI registry.
DISTRIBUTION: Final = "3.1.2"
# Resource metrics (`kubectl top`, the HPA) of the local cluster.
METRICS_SERVER: Final = "0.8.0"
# NetworkPolicy enforcement of the local cluster, patched for this kernel (ops/toolchain/patches/).
KUBE_NETWORK_POLICIES: Final = "0.8.0"

# The CLI and the Python SDK (pyproject.toml) share one version.
PULUMI: Final = "3.260.0"
# The newest Python language host whose source ships inside the sdk/v3 module; later
# releases moved it to a module the Go proxy here does not serve. Its gRPC protocol is
# the one the CLI still speaks, and it runs the exec script of PULUMI.
PULUMI_LANGUAGE_HOST: Final = "3.79.0"
# pulumi-kubernetes publishes its provider module only as a pseudo-version; this commit is
# the one PyPI's pulumi-kubernetes==4.25.0a1768448096 was built from (same timestamp).
PULUMI_KUBERNETES_COMMIT: Final = "v4.0.0-20260115033456-f47bc2d6f199"
PULUMI_KUBERNETES: Final = "4.25.0-alpha.1768448096"
# The provider replaces its Go SDK with ../sdk; the commit's own sdk is not served, so the
# nearest served release stands in (used only by the provider's multi-language components).
PULUMI_KUBERNETES_GO_SDK: Final = "4.29.0"


def kubernetes_minor() -> str:
    """Minor version of the pinned Kubernetes, e.g. '36'."""
    return KUBERNETES.split(".")[1]
