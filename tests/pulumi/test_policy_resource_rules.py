"""The policy pack's exposure and GKE rules: every committed stack complies, each rule catches
its violation, and ranges are judged as networks against the configured prefix."""

import runpy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pulumi_policy
import pytest

from envconfig import known_environments
from policy import PACK_DIR
from policy.network_ranges import PrefixLimits
from policy.resource_rules import RULES_BY_TYPE, subject
from policy.rules import RULES
from tests.pulumi.harness import Recording
from tests.pulumi.test_program import deploy, kubeconfig  # noqa: F401 (a fixture)

pytestmark = pytest.mark.pulumi

RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
LIMITS = PrefixLimits()
WHITELIST = "nginx.ingress.kubernetes.io/whitelist-source-range"


def problems(recording: Recording, resource_type: str, patch: Mapping[str, Any]) -> list[str]:
    """What the rules of `resource_type` find on the recorded resource with `patch` applied."""
    props = patched(recording.one(resource_type).inputs, patch)
    target = subject(resource_type, props)
    return [
        found for rule in RULES_BY_TYPE[resource_type].values() for found in rule(target, LIMITS)
    ]


def patched(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `patch` merged in; a None in the patch removes the key."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = patched(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recording]:
    """prod and staging as the program registers them (GKE, Gateway, Cloud Armor)."""
    directory = tmp_path_factory.mktemp("records")
    return {stack: deploy(stack, directory) for stack in ("prod", "staging")}


def test_rule_names_are_unique_in_the_pack() -> None:
    names = [name for rules in RULES_BY_TYPE.values() for name in rules]
    assert len(names) == len(set(names))
    assert not set(names) & set(RULES)


@pytest.mark.parametrize("stack", known_environments())
def test_committed_stacks_comply(stack: str, tmp_path: Path, kubeconfig: Path) -> None:  # noqa: F811
    recording = deploy(stack, tmp_path)
    checked = set()
    for resource in recording.resources:
        for name, rule in RULES_BY_TYPE.get(resource.type, {}).items():
            assert rule(subject(resource.type, resource.inputs), LIMITS) == [], name
            checked.add(name)
    assert "https-only" in checked
    if stack == "prod":
        assert checked == {name for rules in RULES_BY_TYPE.values() for name in rules}


OPEN_LB = {"values": {"service": {"type": "LoadBalancer"}}}


def _lb(*ranges: str) -> dict[str, Any]:
    return {
        "values": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": list(ranges)}}
    }


# (stack, resource type, patch, fragment of the expected problem)
VIOLATIONS: list[Any] = [
    pytest.param("prod", RELEASE, OPEN_LB, "loadBalancerSourceRanges is empty", id="lb-no-ranges"),
    pytest.param(
        "prod", RELEASE, _lb("0.0.0.0/1"), "'0.0.0.0/1' spans 2147483648 addresses", id="lb-half"
    ),
    pytest.param("prod", RELEASE, _lb("10.0.0.0/8", "::/0"), "[1] '::/0' spans", id="lb-ipv6-all"),
    pytest.param("prod", RELEASE, _lb("nonsense"), "not a network", id="lb-garbage"),
    pytest.param("prod", RELEASE, _lb("10.0.0.0/8"), "publishes the plain-HTTP port", id="lb-http"),
    pytest.param(
        "prod",
        RELEASE,
        {"values": {"ingress": {"enabled": True, "hosts": [{"host": "a.example.com"}], "tls": []}}},
        "'a.example.com' has no ingress.tls entry",
        id="ingress-no-tls",
    ),
    pytest.param(
        "prod",
        RELEASE,
        {
            "values": {
                "ingress": {
                    "enabled": True,
                    "hosts": [],
                    "annotations": {WHITELIST: "10.0.0.0/8,0.0.0.0/1"},
                }
            }
        },
        "whitelist-source-range][1] '0.0.0.0/1' spans",
        id="ingress-wide-range",
    ),
    pytest.param(
        "prod",
        RELEASE,
        {"values": {"gateway": {"securityPolicy": ""}}},
        "gateway.securityPolicy is empty",
        id="gateway-public-unfiltered",
    ),
    pytest.param(
        "prod",
        RELEASE,
        {"values": {"gateway": {"sslPolicy": ""}}},
        "accepts TLS 1.0",
        id="gateway-no-ssl-policy",
    ),
    pytest.param(
        "prod",
        RELEASE,
        {"values": {"gateway": {"certificateMap": ""}}},
        "gke-l7-global-external-managed would have no certificate",
        id="gateway-external-no-certificate",
    ),
    pytest.param(
        "staging",
        RELEASE,
        {"values": {"gateway": {"certificates": []}}},
        "gke-l7-rilb would have no certificate",
        id="gateway-internal-no-certificate",
    ),
    pytest.param(
        "prod",
        SECURITY_POLICY,
        {
            "rules": [
                {
                    "action": "allow",
                    "priority": 1000,
                    "match": {"config": {"srcIpRanges": ["0.0.0.0/1"]}},
                },
                {"action": "deny(403)", "priority": 2147483647},
            ]
        },
        "'0.0.0.0/1' spans",
        id="armor-wide",
    ),
    pytest.param(
        "prod",
        SECURITY_POLICY,
        {
            "rules": [
                {"action": "allow", "priority": 1000, "match": {"config": {"srcIpRanges": ["*"]}}},
                {"action": "deny(403)", "priority": 2147483647},
            ]
        },
        "allows every source",
        id="armor-star",
    ),
    pytest.param(
        "prod",
        SECURITY_POLICY,
        {"rules": [{"action": "allow", "priority": 2147483647}]},
        "default rule (priority 2147483647) is allow",
        id="armor-default-allow",
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"datapathProvider": None},
        "NetworkPolicies are not enforced",
        id="no-dataplane-v2",
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"privateClusterConfig": {"enablePrivateNodes": False}},
        "nodes get external addresses",
        id="public-nodes",
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/1"}]}},
        "'0.0.0.0/1' spans",
        id="control-plane-half-internet",
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"masterAuthorizedNetworksConfig": None},
        "cidrBlocks is empty",
        id="control-plane-open",
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"masterAuthorizedNetworksConfig": {"gcpPublicCidrsAccessEnabled": True}},
        "every Google Cloud public address",
        id="control-plane-gcp-public",
    ),
    pytest.param("prod", CLUSTER, {"enableLegacyAbac": True}, "ABAC bypasses RBAC", id="abac"),
    pytest.param(
        "prod", CLUSTER, {"enableShieldedNodes": False}, "enableShieldedNodes", id="unshielded"
    ),
    pytest.param(
        "prod", CLUSTER, {"workloadIdentityConfig": None}, "pods use the node identity", id="no-wi"
    ),
    pytest.param(
        "prod",
        CLUSTER,
        {"nodeConfig": None},
        "run as the Compute Engine default service account",
        id="default-pool-default-account",
    ),
    pytest.param(
        "prod",
        NODE_POOL,
        {"nodeConfig": {"serviceAccount": "123-compute@developer.gserviceaccount.com"}},
        "the Compute Engine default account",
        id="pool-default-account",
    ),
    pytest.param(
        "prod",
        NODE_POOL,
        {"nodeConfig": {"oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"]}},
        "oauthScopes grants https://www.googleapis.com/auth/cloud-platform",
        id="pool-cloud-platform",
    ),
    pytest.param(
        "prod",
        NODE_POOL,
        {"nodeConfig": {"shieldedInstanceConfig": {"enableSecureBoot": False}}},
        "enableSecureBoot is not true",
        id="pool-no-secure-boot",
    ),
    pytest.param(
        "prod",
        NODE_POOL,
        {"nodeConfig": {"workloadMetadataConfig": {"mode": "GCE_METADATA"}}},
        "set GKE_METADATA",
        id="pool-node-metadata",
    ),
]


@pytest.mark.parametrize(("stack", "resource_type", "patch", "fragment"), VIOLATIONS)
def test_violation_is_reported(
    stack: str,
    resource_type: str,
    patch: Mapping[str, Any],
    fragment: str,
    recordings: dict[str, Recording],
) -> None:
    found = problems(recordings[stack], resource_type, patch)
    assert any(fragment in problem for problem in found), found


# (rule, stack, resource type, patch): a compliant variant each rule must accept, beside the
# committed stacks (test_committed_stacks_comply).
COMPLIANT: list[Any] = [
    pytest.param("no-open-load-balancer", "prod", RELEASE, _lb("10.0.0.0/8"), id="lb-narrow"),
    pytest.param(
        "https-only", "prod", RELEASE, {"values": {"service": {"type": "NodePort"}}}, id="nodeport"
    ),
    pytest.param(
        "ingress-https",
        "prod",
        RELEASE,
        {
            "values": {
                "ingress": {
                    "enabled": True,
                    "hosts": [{"host": "a.example.com"}],
                    "tls": [{"secretName": "tls", "hosts": ["a.example.com"]}],
                    "annotations": {WHITELIST: "10.0.0.0/8, 203.0.113.0/24"},
                }
            }
        },
        id="ingress-tls-narrow",
    ),
    pytest.param("gateway-https", "staging", RELEASE, {}, id="gateway-internal"),
    pytest.param(
        "cloud-armor-ranges",
        "prod",
        SECURITY_POLICY,
        {
            "rules": [
                {
                    "action": "allow",
                    "priority": 1000,
                    "match": {"config": {"srcIpRanges": ["2001:db8::/48"]}},
                },
                {"action": "deny(404)", "priority": 2147483647},
            ]
        },
        id="armor-ipv6",
    ),
    pytest.param(
        "gke-control-plane-authorized-networks",
        "staging",
        CLUSTER,
        {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}},
        id="control-plane-private-block",
    ),
    *[
        pytest.param(name, stack, CLUSTER, {}, id=f"{name}-{stack}")
        for name in (
            "gke-network-policy-enforced",
            "gke-private-nodes",
            "gke-cluster-hardened",
            "gke-default-pool-identity",
        )
        for stack in ("prod", "staging")
    ],
    pytest.param(
        "gke-node-pool-identity",
        "prod",
        NODE_POOL,
        {"nodeConfig": {"shieldedInstanceConfig": {"enableIntegrityMonitoring": None}}},
        id="pool-integrity-monitoring-default",
    ),
]


def test_every_rule_has_a_compliant_case() -> None:
    names = {name for rules in RULES_BY_TYPE.values() for name in rules}
    assert {case.values[0] for case in COMPLIANT} == names


@pytest.mark.parametrize(("rule", "stack", "resource_type", "patch"), COMPLIANT)
def test_compliant_variant_passes(
    rule: str,
    stack: str,
    resource_type: str,
    patch: Mapping[str, Any],
    recordings: dict[str, Recording],
) -> None:
    props = patched(recordings[stack].one(resource_type).inputs, patch)
    assert RULES_BY_TYPE[resource_type][rule](subject(resource_type, props), LIMITS) == []


@pytest.mark.parametrize(
    "ranges", [["10.0.0.0/8"], ["203.0.113.7/32"], ["2001:db8::/32"], ["2001:db8:1::/48"]]
)
def test_ranges_within_the_limit_pass(ranges: list[str], recordings: dict[str, Recording]) -> None:
    found = problems(recordings["prod"], RELEASE, _lb(*ranges))
    assert [problem for problem in found if "loadBalancerSourceRanges[" in problem] == []


def test_the_limit_is_configurable(recordings: dict[str, Recording]) -> None:
    cluster = recordings["prod"].one(CLUSTER).inputs
    rule = RULES_BY_TYPE[CLUSTER]["gke-control-plane-authorized-networks"]
    wide = patched(
        cluster, {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}}
    )
    assert rule(wide, PrefixLimits()) == []
    [problem] = rule(wide, PrefixLimits.from_config({"minIPv4PrefixLength": 16}))
    assert "wider than the allowed /16 (policy config minIPv4PrefixLength)" in problem


@pytest.fixture(scope="module")
def pack_policies(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    """The policies policy/__main__.py registers, run as Pulumi runs the pack (a directory)."""
    registered: dict[str, Any] = {}

    class Pack:
        def __init__(self, name: str, policies: list[Any], **_: Any) -> None:
            registered.update({policy.name: policy for policy in policies})

    monkeypatch_module.setattr(pulumi_policy, "PolicyPack", Pack)
    monkeypatch_module.syspath_prepend(str(PACK_DIR))
    runpy.run_path(str(PACK_DIR), run_name="__main__")
    return registered


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_pack_registers_every_rule_mandatory_with_the_prefix_config(
    pack_policies: dict[str, Any],
) -> None:
    typed = {name for rules in RULES_BY_TYPE.values() for name in rules}
    assert set(pack_policies) == set(RULES) | typed
    for name in typed:
        assert set(pack_policies[name].config_schema.properties) == {
            "minIPv4PrefixLength",
            "minIPv6PrefixLength",
        }


def test_the_pack_reports_a_violation_with_the_rule_message(
    pack_policies: dict[str, Any], recordings: dict[str, Recording]
) -> None:
    props = patched(
        recordings["prod"].one(CLUSTER).inputs,
        {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/12"}]}},
    )
    reported: list[str] = []
    args = pulumi_policy.ResourceValidationArgs(
        CLUSTER,
        props,
        "urn",
        "cluster",
        cast(pulumi_policy.PolicyResourceOptions, None),
        None,
        config={"minIPv4PrefixLength": 16},
    )
    pack_policies["gke-control-plane-authorized-networks"].validate(
        args, lambda message, urn=None: reported.append(message)
    )
    assert reported == [
        "masterAuthorizedNetworksConfig.cidrBlocks[0] '10.0.0.0/12' spans 1048576 addresses, "
        "wider than the allowed /16 (policy config minIPv4PrefixLength)"
    ]
