"""HTTPS in front of the release on GKE: the Google Cloud side of the chart's Gateway.

Why a Gateway (Gateway API) and not an Ingress with a ManagedCertificate: one API serves both
frontends the stacks need. prod's `gke-l7-global-external-managed` takes a Google-managed
certificate through a Certificate Manager map; staging's internal `gke-l7-rilb` takes a
regional Google-managed certificate, which a ManagedCertificate cannot give an internal Ingress.
Both listen on 443 only: no port-80 listener, so a bearer token never crosses in clear text,
not even on the request a redirect would answer. This module creates what the Gateway names
(address, certificate, SSL policy, Cloud Armor policy); `gateway_values` tells the chart.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from envconfig import PROJECT
from infra.config import ClusterConfig, GkeClusterConfig, GkeHttpsConfig

GATEWAY_CLASSES = {
    "external": "gke-l7-global-external-managed",
    "internal": "gke-l7-rilb",
}
# Cloud Armor takes at most 10 ranges per rule.
_RANGES_PER_RULE = 10
_DEFAULT_RULE_PRIORITY = 2147483647


@dataclass(frozen=True)
class GatewayNames:
    """The Google Cloud names the chart's Gateway refers to; fixed, so both sides agree."""

    address: str
    certificate: str
    certificate_map: str
    ssl_policy: str
    security_policy: str

    @classmethod
    def for_stack(cls, stack: str) -> "GatewayNames":
        prefix = f"{PROJECT}-{stack}"
        return cls(
            address=f"{prefix}-gateway",
            certificate=f"{prefix}-tls",
            certificate_map=f"{prefix}-tls",
            ssl_policy=f"{prefix}-tls12",
            security_policy=f"{prefix}-sources",
        )


def gateway_values(
    chart_values: dict[str, Any], cluster: ClusterConfig, stack: str
) -> dict[str, Any]:
    """The chart section with `gateway.*` filled in when the GKE stack asks for HTTPS."""
    if not isinstance(cluster, GkeClusterConfig) or cluster.https is None:
        return chart_values
    https = cluster.https
    names = GatewayNames.for_stack(stack)
    external = https.loadBalancer == "external"
    gateway: dict[str, Any] = {
        "enabled": True,
        "className": GATEWAY_CLASSES[https.loadBalancer],
        "host": https.host,
        "addressName": names.address,
        "sslPolicy": names.ssl_policy,
    }
    if external:
        gateway["certificateMap"] = names.certificate_map
    else:
        gateway["certificates"] = [names.certificate]
    if external and https.sourceRanges:
        gateway["securityPolicy"] = names.security_policy
    return {**chart_values, "gateway": {**chart_values.get("gateway", {}), **gateway}}


class GkeHttpsFrontend(pulumi.ComponentResource):
    """Address, Google-managed certificate, TLS 1.2+ policy and source filter of the Gateway."""

    address: gcp.compute.GlobalAddress | gcp.compute.Address
    dns_authorization: gcp.certificatemanager.DnsAuthorization
    certificate: gcp.certificatemanager.Certificate
    ssl_policy: gcp.compute.SSLPolicy | gcp.compute.RegionSslPolicy
    security_policy: gcp.compute.SecurityPolicy | None
    endpoint: str

    def __init__(
        self,
        name: str,
        config: GkeHttpsConfig,
        network: gcp.compute.Network,
        subnetwork: gcp.compute.Subnetwork,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("image-classifier:infra:GkeHttpsFrontend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = GatewayNames.for_stack(pulumi.get_stack())
        external = config.loadBalancer == "external"
        self.endpoint = f"https://{config.host}"
        # Regional certificates (internal) need a regional authorization; both are DNS-based,
        # so the certificate is issued before traffic arrives and for a VPC-only name too.
        location = "global" if external else region
        self.dns_authorization = gcp.certificatemanager.DnsAuthorization(
            f"{name}-dns-authorization",
            domain=config.host,
            location=location,
            opts=child,
        )
        self.certificate = gcp.certificatemanager.Certificate(
            f"{name}-certificate",
            name=names.certificate,
            location=location,
            managed=gcp.certificatemanager.CertificateManagedArgs(
                domains=[config.host], dns_authorizations=[self.dns_authorization.id]
            ),
            opts=child,
        )
        self.security_policy = None
        if external:
            self.address = gcp.compute.GlobalAddress(
                f"{name}-address", name=names.address, opts=child
            )
            # Global external Gateways take certificates through a map only.
            certificate_map = gcp.certificatemanager.CertificateMap(
                f"{name}-certificate-map", name=names.certificate_map, opts=child
            )
            gcp.certificatemanager.CertificateMapEntry(
                f"{name}-certificate-map-entry",
                map=certificate_map.name,
                hostname=config.host,
                certificates=[self.certificate.id],
                opts=child,
            )
            self.ssl_policy = gcp.compute.SSLPolicy(
                f"{name}-ssl-policy",
                name=names.ssl_policy,
                min_tls_version="TLS_1_2",
                profile="MODERN",
                opts=child,
            )
            if config.sourceRanges:
                self.security_policy = _source_filter(
                    f"{name}-security-policy", names.security_policy, config.sourceRanges, child
                )
        else:
            # Regional internal Application LBs run their proxies in this subnet.
            proxy_subnet = gcp.compute.Subnetwork(
                f"{name}-proxy-only-subnet",
                network=network.id,
                region=region,
                ip_cidr_range=config.proxyOnlyCidr,
                purpose="REGIONAL_MANAGED_PROXY",
                role="ACTIVE",
                opts=child,
            )
            self.address = gcp.compute.Address(
                f"{name}-address",
                name=names.address,
                region=region,
                address_type="INTERNAL",
                # The Gateway controller may put one forwarding rule per listener on it.
                purpose="SHARED_LOADBALANCER_VIP",
                subnetwork=subnetwork.id,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[proxy_subnet])
                ),
            )
            self.ssl_policy = gcp.compute.RegionSslPolicy(
                f"{name}-ssl-policy",
                name=names.ssl_policy,
                region=region,
                min_tls_version="TLS_1_2",
                profile="MODERN",
                opts=child,
            )
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "address": self.address.address,
                # The CNAME to add to the zone of `host` before the certificate can be issued.
                "dnsAuthorizationRecords": self.dns_authorization.dns_resource_records,
            }
        )


def _source_filter(
    name: str, policy_name: str, ranges: list[str], opts: pulumi.ResourceOptions
) -> gcp.compute.SecurityPolicy:
    """A Cloud Armor policy that admits `ranges` and answers 403 to everyone else."""
    chunks = [
        ranges[start : start + _RANGES_PER_RULE]
        for start in range(0, len(ranges), _RANGES_PER_RULE)
    ]
    allow = [
        gcp.compute.SecurityPolicyRuleArgs(
            action="allow",
            priority=1000 + index,
            description="the stack's https.sourceRanges",
            match=gcp.compute.SecurityPolicyRuleMatchArgs(
                versioned_expr="SRC_IPS_V1",
                config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=chunk),
            ),
        )
        for index, chunk in enumerate(chunks)
    ]
    deny = gcp.compute.SecurityPolicyRuleArgs(
        action="deny(403)",
        priority=_DEFAULT_RULE_PRIORITY,
        description="everyone else",
        match=gcp.compute.SecurityPolicyRuleMatchArgs(
            versioned_expr="SRC_IPS_V1",
            config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]),
        ),
    )
    return gcp.compute.SecurityPolicy(name, name=policy_name, rules=[*allow, deny], opts=opts)
