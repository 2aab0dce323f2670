"""How the release is reached: HTTPS only, and only from ranges no wider than the limit.

Release rules read a Helm release's values (complete: the chart's defaults included); the
Cloud Armor rule reads the `gcp:compute/securityPolicy:SecurityPolicy` the Gateway's backend
uses. Every rule returns the problems it found, empty when the resource complies.
"""

from collections.abc import Mapping
from typing import Any

from policy.network_ranges import PrefixLimits, Rule, range_problems

EXTERNAL_GATEWAY_CLASS = "gke-l7-global-external-managed"
INTERNAL_GATEWAY_CLASS = "gke-l7-rilb"
# ingress-nginx's annotations that limit the client ranges.
SOURCE_RANGE_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/whitelist-source-range",
    "nginx.ingress.kubernetes.io/allowlist-source-range",
)
# Cloud Armor's default rule: the one that decides for every source no other rule matched.
DEFAULT_RULE_PRIORITY = 2147483647


def _section(values: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return values.get(key) or {}


def load_balancer_ranges(values: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """A LoadBalancer Service must name the source ranges allowed in, none wider than allowed."""
    service = _section(values, "service")
    if service.get("type") != "LoadBalancer":
        return []
    ranges = list(service.get("loadBalancerSourceRanges") or [])
    if not ranges:
        return ["service.type is LoadBalancer but service.loadBalancerSourceRanges is empty"]
    return range_problems("service.loadBalancerSourceRanges", ranges, limits)


def https_only(values: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Nothing outside the cluster reaches the pods' plain-HTTP port: no LoadBalancer Service."""
    if _section(values, "service").get("type") == "LoadBalancer":
        return [
            "service.type LoadBalancer publishes the plain-HTTP port beyond the cluster (bearer "
            "tokens in clear text); keep service.type ClusterIP and serve it through "
            "gateway.enabled (HTTPS)"
        ]
    return []


def ingress_https(values: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """An Ingress terminates TLS for every host it routes, from ranges no wider than allowed."""
    ingress = _section(values, "ingress")
    if not ingress.get("enabled"):
        return []
    covered = {host for entry in ingress.get("tls") or [] for host in entry.get("hosts") or []}
    problems = [
        f"ingress.hosts[{index}].host {entry.get('host')!r} has no ingress.tls entry (plain HTTP)"
        for index, entry in enumerate(ingress.get("hosts") or [])
        if entry.get("host") not in covered
    ]
    annotations = ingress.get("annotations") or {}
    for annotation in SOURCE_RANGE_ANNOTATIONS:
        if annotation in annotations:
            ranges = [part for part in str(annotations[annotation]).split(",") if part.strip()]
            problems += range_problems(f"ingress.annotations[{annotation}]", ranges, limits)
    return problems


def gateway_https(values: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """A Gateway has a host, a certificate, a TLS 1.2+ policy, and a source filter if public."""
    gateway = _section(values, "gateway")
    if not gateway.get("enabled"):
        return []
    class_name = gateway.get("className")
    problems = []
    if not gateway.get("host"):
        problems.append("gateway.host is empty: the certificate and the route need the name")
    if class_name == EXTERNAL_GATEWAY_CLASS and not gateway.get("certificateMap"):
        problems.append(f"gateway.certificateMap is empty: {class_name} would have no certificate")
    if class_name == INTERNAL_GATEWAY_CLASS and not gateway.get("certificates"):
        problems.append(f"gateway.certificates is empty: {class_name} would have no certificate")
    if not gateway.get("sslPolicy"):
        problems.append("gateway.sslPolicy is empty: Google's default SSL policy accepts TLS 1.0")
    if class_name == EXTERNAL_GATEWAY_CLASS and not gateway.get("securityPolicy"):
        problems.append(
            f"gateway.securityPolicy is empty: a {class_name} Gateway takes requests from the "
            "whole internet; attach a Cloud Armor policy that admits the clients' ranges"
        )
    return problems


def cloud_armor_ranges(policy: Mapping[str, Any], limits: PrefixLimits) -> list[str]:
    """Cloud Armor allows only ranges no wider than allowed, and denies everyone else."""
    problems = []
    default_action = None
    for rule in policy.get("rules") or []:
        ranges = ((rule.get("match") or {}).get("config") or {}).get("srcIpRanges") or []
        priority = rule.get("priority")
        if priority == DEFAULT_RULE_PRIORITY:
            default_action = str(rule.get("action"))
        elif str(rule.get("action")).startswith("allow"):
            key = f"rules[priority {priority}].match.config.srcIpRanges"
            if "*" in ranges:
                problems.append(f"{key} allows every source ('*')")
            problems += range_problems(key, [text for text in ranges if text != "*"], limits)
    if default_action is None or not default_action.startswith("deny"):
        problems.append(
            f"the default rule (priority {DEFAULT_RULE_PRIORITY}) is {default_action or 'absent'}; "
            "it must deny, or every source the allow rules miss gets in"
        )
    return problems


RELEASE_RULES: dict[str, Rule] = {
    "no-open-load-balancer": load_balancer_ranges,
    "https-only": https_only,
    "ingress-https": ingress_https,
    "gateway-https": gateway_https,
}
SECURITY_POLICY_RULES: dict[str, Rule] = {
    "cloud-armor-ranges": cloud_armor_ranges,
}
