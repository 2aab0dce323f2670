"""Pinned versions of every tool the project builds or installs; the one place to bump them."""

from typing import Final

KUBERNETES: Final = "1.36.3"
ETCD: Final = "3.6.16"
KWOK: Final = "0.8.0"
HELM3: Final = "3.22.0"
HELM4: Final = "4.3.1"
KUBE_SCORE: Final = "1.20.0"

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
