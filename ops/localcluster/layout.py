"""Where the local cluster keeps its files, and the addresses and ports it uses.

Every address is on this machine: the node's address sits on a bridge the cluster creates,
pods live in network namespaces on that bridge, and Service addresses are virtual (kube-proxy
rewrites them to pod addresses). Ports that could clash with a user's own servers are moved
off their defaults.
"""

from dataclasses import dataclass
from pathlib import Path

from ops.toolchain.paths import cache_root

CLUSTER_NAME = "image-classifier"
BRIDGE = "icbr0"
NODE_IP = "10.244.0.1"
NODE_POD_CIDR = "10.244.0.0/24"
CLUSTER_POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
APISERVER_PORT = 6443
ETCD_CLIENT_PORT = 12379
ETCD_PEER_PORT = 12380
REGISTRY = "127.0.0.1:5000"
METRICS_SERVER_PORT = 4443
# NodePorts are served on the loopback address only; the range includes 8080 so that the
# local release's Service answers on 127.0.0.1:8080 like `make serve` does.
NODE_PORT_RANGE = "8000-32767"
NODE_PORT_ADDRESSES = ("127.0.0.0/8",)


@dataclass(frozen=True)
class Layout:
    """The directories of one local cluster; `down` removes all of them but the registry's."""

    name: str = CLUSTER_NAME

    @property
    def root(self) -> Path:
        """Persistent state: certificates, etcd, containerd's images, logs, configs."""
        return cache_root() / "cluster" / self.name

    @property
    def run(self) -> Path:
        """Runtime state: sockets and pid files (kept short: unix socket paths are limited)."""
        return Path("/run") / f"ic-{self.name}"

    @property
    def registry_storage(self) -> Path:
        """The registry's blobs: a cache that outlives the cluster, like podman's storage."""
        return cache_root() / "registry"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def node_name(self) -> str:
        return f"{self.name}-node"

    def kubeconfig(self, identity: str) -> Path:
        """The kubeconfig a component (or `admin`, a person) uses to reach the API server."""
        return self.root / "kubeconfigs" / f"{identity}.yaml"
