"""The local cluster: a Ready real node, pods that really run, cluster DNS and Services.

The tests share the session's cluster. That `down` leaves nothing behind on the host, and that
`pulumi up` starts a stopped cluster again, is shown by the last end-to-end test
(tests/e2e/test_local_stack.py), which stops the cluster anyway.
"""

import json
import random
import socket
import ssl
import struct
from pathlib import Path

import pytest

from ops.localcluster import LocalCluster, host
from ops.localcluster.configs import PAUSE_IMAGE
from ops.localcluster.layout import BRIDGE, DNS_SERVICE_IP, KUBERNETES_SERVICE_IP, NODE_IP
from ops.localcluster.processes import wait_for
from ops.toolchain import versions

pytestmark = pytest.mark.cluster

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "sandbox-probe", "namespace": "default"},
    "spec": {
        "containers": [{"name": "pause", "image": PAUSE_IMAGE}],
        "terminationGracePeriodSeconds": 1,
    },
}


@pytest.fixture(scope="module")
def cluster(local_cluster: Path) -> LocalCluster:
    return LocalCluster()


def skip_name(message: bytes, offset: int) -> int:
    """The offset after the (possibly compressed) domain name at `offset`."""
    while message[offset] != 0:
        if message[offset] & 0xC0 == 0xC0:
            return offset + 2
        offset += 1 + message[offset]
    return offset + 1


def dns_query(name: str, server: str, port: int = 53) -> tuple[int, list[str]]:
    """One A query over UDP: (response code, IPv4 answers). Stdlib only, no resolver config."""
    query_id = random.randrange(1 << 16)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + b"\0\1\0\1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(packet, (server, port))
        reply = udp.recv(4096)
    answer_id, flags, _, count = struct.unpack(">HHHH", reply[:8])
    assert answer_id == query_id
    offset = 12 + len(question) + 4
    addresses = []
    for _ in range(count):
        offset = skip_name(reply, offset)
        kind, _, _, length = struct.unpack(">HHIH", reply[offset : offset + 10])
        data = reply[offset + 10 : offset + 10 + length]
        if kind == 1:
            addresses.append(socket.inet_ntoa(data))
        offset += 10 + length
    return flags & 0xF, addresses


def test_the_node_is_real_and_ready(cluster: LocalCluster) -> None:
    node = json.loads(cluster.kubectl("get", "node", cluster.layout.node_name, "-o", "json"))
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == f"v{versions.KUBERNETES}"
    assert info["containerRuntimeVersion"] == f"containerd://{versions.CONTAINERD}"
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert {"type": "InternalIP", "address": NODE_IP} in node["status"]["addresses"]
    # The only node: every pod the cluster schedules runs here.
    assert len(json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"]) == 1


def test_a_pod_runs_a_container_pulled_from_the_cluster_registry(cluster: LocalCluster) -> None:
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(POD))
    try:
        cluster.kubectl("wait", "--for=condition=Ready", "pod/sandbox-probe", "--timeout=90s")
        pod = json.loads(cluster.kubectl("get", "pod", "sandbox-probe", "-o", "json"))
        status = pod["status"]["containerStatuses"][0]
        assert status["containerID"].startswith("containerd://")
        assert status["imageID"].startswith(PAUSE_IMAGE.rsplit(":", 1)[0] + "@sha256:")
        assert pod["status"]["podIP"].startswith("10.244.0.")
        assert BRIDGE in host.cluster_interfaces() and len(host.cluster_interfaces()) >= 2
    finally:
        cluster.kubectl("delete", "pod", "sandbox-probe", "--wait=true", "--timeout=60s")


def test_cluster_dns_answers_cluster_names_and_nothing_else() -> None:
    rcode, addresses = dns_query("kubernetes.default.svc.cluster.local", DNS_SERVICE_IP)
    assert (rcode, addresses) == (0, [KUBERNETES_SERVICE_IP])
    # No forwarding: an outside name is never looked up elsewhere.
    rcode, addresses = dns_query("example.com", NODE_IP)
    assert rcode != 0 and addresses == []


def test_a_service_address_reaches_its_endpoint_through_kube_proxy() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def api_server_answers() -> bool:
        try:
            with (
                socket.create_connection((KUBERNETES_SERVICE_IP, 443), timeout=2) as raw,
                context.wrap_socket(raw) as tls,
            ):
                return tls.version() is not None
        except OSError:
            return False

    # kube-proxy writes a Service's rules about a second after it sees it.
    assert wait_for(api_server_answers, timeout=30)
