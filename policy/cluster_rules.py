"""The GKE hardening, checked on `gcp:container/cluster:Cluster` and `.../nodePool:NodePool`.

The rules read the resources' inputs as the engine receives them (camelCase). During a
preview some inputs are still unknown (the node account's email); pulumi-policy then reports
that the rule could not run, and `pulumi up` checks it once the value is known.
"""

from collections.abc import Mapping
from typing import Any

from policy.network_ranges import PrefixLimits, Rule, range_problems

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_ACCOUNT_SUFFIX = "-compute@developer.gserviceaccount.com"


def _section(props: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return props.get(key) or {}


def network_policy_enforced(cluster: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Dataplane V2, so the chart's NetworkPolicies are enforced rather than ignored."""
    provider = cluster.get("datapathProvider")
    if provider == "ADVANCED_DATAPATH":
        return []
    return [
        f"datapathProvider is {provider or 'unset (LEGACY_DATAPATH)'}: NetworkPolicies are not "
        "enforced; set ADVANCED_DATAPATH (Dataplane V2)"
    ]


def private_nodes(cluster: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Nodes have no external address."""
    if _section(cluster, "privateClusterConfig").get("enablePrivateNodes") is True:
        return []
    return ["privateClusterConfig.enablePrivateNodes is not true: nodes get external addresses"]


def control_plane_authorized_networks(
    cluster: Mapping[str, Any], limits: PrefixLimits
) -> list[str]:
    """Only listed ranges, none wider than allowed, reach the control plane."""
    config = _section(cluster, "masterAuthorizedNetworksConfig")
    blocks = list(config.get("cidrBlocks") or [])
    problems = []
    if not blocks:
        problems.append(
            "masterAuthorizedNetworksConfig.cidrBlocks is empty: any address reaches the "
            "control plane"
        )
    problems += range_problems(
        "masterAuthorizedNetworksConfig.cidrBlocks",
        [block.get("cidrBlock") for block in blocks],
        limits,
    )
    if config.get("gcpPublicCidrsAccessEnabled") is True:
        problems.append(
            "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled admits every Google "
            "Cloud public address"
        )
    return problems


def cluster_hardened(cluster: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Shielded nodes, workload identity, no legacy ABAC, no client certificates."""
    problems = []
    if cluster.get("enableShieldedNodes") is not True:
        problems.append("enableShieldedNodes is not true")
    if cluster.get("enableLegacyAbac") is True:
        problems.append("enableLegacyAbac is true: ABAC bypasses RBAC")
    if not _section(cluster, "workloadIdentityConfig").get("workloadPool"):
        problems.append("workloadIdentityConfig.workloadPool is empty: pods use the node identity")
    client_certificates = _section(_section(cluster, "masterAuth"), "clientCertificateConfig")
    if client_certificates.get("issueClientCertificate") is True:
        problems.append("masterAuth issues a client certificate: a credential that never expires")
    return problems


def node_identity(node_config: Mapping[str, Any], key: str) -> list[str]:
    """The node account is a dedicated one, without cloud-platform, on shielded, WI nodes."""
    if not node_config:
        return [f"{key} is unset: nodes run as the Compute Engine default service account"]
    problems = []
    account = str(node_config.get("serviceAccount") or "default")
    if account == "default" or account.endswith(DEFAULT_ACCOUNT_SUFFIX):
        problems.append(
            f"{key}.serviceAccount is {account}: the Compute Engine default account (Editor "
            "on the project); use a dedicated least-privilege account"
        )
    if CLOUD_PLATFORM_SCOPE in (node_config.get("oauthScopes") or []):
        problems.append(f"{key}.oauthScopes grants {CLOUD_PLATFORM_SCOPE}")
    shielded = _section(node_config, "shieldedInstanceConfig")
    if shielded.get("enableSecureBoot") is not True:
        problems.append(f"{key}.shieldedInstanceConfig.enableSecureBoot is not true")
    if shielded.get("enableIntegrityMonitoring") is False:
        problems.append(f"{key}.shieldedInstanceConfig.enableIntegrityMonitoring is false")
    mode = _section(node_config, "workloadMetadataConfig").get("mode")
    if mode != "GKE_METADATA":
        problems.append(
            f"{key}.workloadMetadataConfig.mode is {mode or 'unset'}: pods could read the "
            "node's credentials; set GKE_METADATA"
        )
    return problems


def cluster_default_pool_identity(cluster: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """The cluster's first pool boots even when it is removed: it must be hardened too."""
    return node_identity(_section(cluster, "nodeConfig"), "nodeConfig")


def node_pool_identity(pool: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Every node pool runs shielded, as a dedicated account, with workload identity."""
    return node_identity(_section(pool, "nodeConfig"), "nodeConfig")


CLUSTER_RULES: dict[str, Rule] = {
    "gke-network-policy-enforced": network_policy_enforced,
    "gke-private-nodes": private_nodes,
    "gke-control-plane-authorized-networks": control_plane_authorized_networks,
    "gke-cluster-hardened": cluster_hardened,
    "gke-default-pool-identity": cluster_default_pool_identity,
}
NODE_POOL_RULES: dict[str, Rule] = {
    "gke-node-pool-identity": node_pool_identity,
}
