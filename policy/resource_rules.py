"""Which resource type each exposure and GKE rule checks; `__main__.py` registers them all."""

from collections.abc import Mapping
from typing import Any

from policy.cluster_rules import CLUSTER_RULES, NODE_POOL_RULES
from policy.exposure_rules import RELEASE_RULES, SECURITY_POLICY_RULES
from policy.network_ranges import Rule

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
RULES_BY_TYPE: dict[str, dict[str, Rule]] = {
    RELEASE_TYPE: RELEASE_RULES,
    "gcp:compute/securityPolicy:SecurityPolicy": SECURITY_POLICY_RULES,
    "gcp:container/cluster:Cluster": CLUSTER_RULES,
    "gcp:container/nodePool:NodePool": NODE_POOL_RULES,
}


def subject(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a type's rules read: a release's values; any other resource's inputs."""
    if resource_type == RELEASE_TYPE:
        # Only the values: other inputs (the namespace) may be unknown during a preview.
        values: Mapping[str, Any] = props.get("values") or {}
        return values
    return props
