"""Cluster objects the node's host processes need: the Services of cluster DNS and of the
resource metrics API, the metrics APIService, and the RBAC of both.

CoreDNS and metrics-server run on the host (at the node's address), so their Services have
no selector; an EndpointSlice points each at the node.
"""

import base64
from typing import TYPE_CHECKING

import yaml

from ops.localcluster.layout import DNS_SERVICE_IP, METRICS_SERVER_PORT, NODE_IP, Layout

if TYPE_CHECKING:
    from ops.localcluster.cluster import LocalCluster

DNS_PORTS = (("dns", "UDP"), ("dns-tcp", "TCP"))
RBAC = "rbac.authorization.k8s.io"


def _user(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": "User", "name": name}


def _host_service(name: str, ports: list[dict], cluster_ip: str | None = None) -> list[dict]:
    """A selector-less Service in kube-system and the EndpointSlice sending it to the node."""
    spec: dict = {"ports": [{**port, "targetPort": port["port"]} for port in ports]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": name}},
            "spec": spec,
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name}-node",
                "namespace": "kube-system",
                "labels": {"kubernetes.io/service-name": name},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}}],
            "ports": ports,
        },
    ]


def metrics_manifests(layout: Layout) -> list[dict]:
    """metrics-server's roles (as its upstream manifests grant them) and its APIService."""
    ca_bundle = base64.b64encode((layout.pki / "ca.crt").read_bytes()).decode()
    user = _user("system:metrics-server")
    return [
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "system:metrics-server"},
            "rules": [
                {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                {
                    "apiGroups": [""],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                },
            ],
        },
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": "system:aggregated-metrics-reader",
                "labels": {
                    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                    "rbac.authorization.k8s.io/aggregate-to-view": "true",
                },
            },
            "rules": [
                {
                    "apiGroups": ["metrics.k8s.io"],
                    "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "system:metrics-server"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "system:metrics-server"},
            "subjects": [user],
        },
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "metrics-server:system:auth-delegator"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "system:auth-delegator"},
            "subjects": [user],
        },
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "metrics-server-auth-reader", "namespace": "kube-system"},
            "roleRef": {
                "apiGroup": RBAC,
                "kind": "Role",
                "name": "extension-apiserver-authentication-reader",
            },
            "subjects": [user],
        },
        *_host_service(
            "metrics-server", [{"name": "https", "port": METRICS_SERVER_PORT, "protocol": "TCP"}]
        ),
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {
                    "name": "metrics-server",
                    "namespace": "kube-system",
                    "port": METRICS_SERVER_PORT,
                },
                "caBundle": ca_bundle,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


MANIFESTS: list[dict] = [
    # kube-network-policies: what its upstream install.yaml grants its service account.
    {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:kube-network-policies"},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "namespaces", "nodes"],
                "verbs": ["list", "watch"],
            },
            {
                "apiGroups": ["networking.k8s.io"],
                "resources": ["networkpolicies"],
                "verbs": ["list", "watch"],
            },
        ],
    },
    {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "system:kube-network-policies"},
        "roleRef": {
            "apiGroup": RBAC,
            "kind": "ClusterRole",
            "name": "system:kube-network-policies",
        },
        "subjects": [_user("system:kube-network-policies")],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:coredns"},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["services", "pods", "namespaces"],
                "verbs": ["list", "watch"],
            },
            {
                "apiGroups": ["discovery.k8s.io"],
                "resources": ["endpointslices"],
                "verbs": ["list", "watch"],
            },
        ],
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "system:coredns"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "system:coredns",
        },
        "subjects": [_user("system:coredns")],
    },
    *_host_service(
        "kube-dns",
        [{"name": name, "port": 53, "protocol": protocol} for name, protocol in DNS_PORTS],
        cluster_ip=DNS_SERVICE_IP,
    ),
]


def apply(cluster: "LocalCluster") -> None:
    """Create or update the objects (server-side apply, so a restart is a no-op)."""
    manifests = [*MANIFESTS, *metrics_manifests(cluster.layout)]
    cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=localcluster",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(manifests),
    )
