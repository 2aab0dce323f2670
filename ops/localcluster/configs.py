"""The configuration files of the node's components, written under the cluster's root.

Each function returns the text of one file; `write_configs` puts them in place. The settings
that this machine needs (cgroup v1, no CAP_SYS_RESOURCE, loopback-only NodePorts) carry a
comment saying why.
"""

import json
from pathlib import Path

import yaml

from ops.localcluster.layout import (
    APISERVER_PORT,
    BRIDGE,
    CLUSTER_DOMAIN,
    CLUSTER_POD_CIDR,
    DNS_SERVICE_IP,
    NODE_IP,
    NODE_POD_CIDR,
    NODE_PORT_ADDRESSES,
    REGISTRY,
    Layout,
)
from ops.localcluster.pki import client_identities
from ops.toolchain import versions

RUNC = "/usr/sbin/runc"
CNI_BIN_DIR = "/usr/lib/cni"
PAUSE_IMAGE = f"{REGISTRY}/pause:v{versions.KUBERNETES}"


def kubeconfig(layout: Layout, identity: str) -> str:
    """A kubeconfig for one client identity, with absolute paths to its certificate."""
    pki = layout.pki
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": layout.name,
                "cluster": {
                    "server": f"https://{NODE_IP}:{APISERVER_PORT}",
                    "certificate-authority": str(pki / "ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": identity,
                "user": {
                    "client-certificate": str(pki / f"{identity}.crt"),
                    "client-key": str(pki / f"{identity}.key"),
                },
            }
        ],
        "contexts": [{"name": layout.name, "context": {"cluster": layout.name, "user": identity}}],
        "current-context": layout.name,
    }
    return yaml.safe_dump(config, sort_keys=False)


def containerd_config(layout: Layout) -> str:
    runtime = '"io.containerd.cri.v1.runtime"'
    images = '"io.containerd.cri.v1.images"'
    return f"""version = 3
root = "{layout.root / "containerd"}"
state = "{layout.run / "containerd"}"

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout.containerd_socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.root / "containerd-opt"}"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"

[plugins.{runtime}]
  # Without CAP_SYS_RESOURCE the kubelet's -998 for containers would be refused.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true

[plugins.{runtime}.containerd]
  default_runtime_name = "runc"

[plugins.{runtime}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.{runtime}.containerd.runtimes.runc.options]
  # Debian's runc: crun refuses this host's hybrid cgroup v1.
  BinaryName = "{RUNC}"
  SystemdCgroup = false

[plugins.{runtime}.cni]
  bin_dirs = ["{CNI_BIN_DIR}"]
  conf_dir = "{layout.root / "cni" / "net.d"}"

[plugins.{images}.pinned_images]
  sandbox = "{PAUSE_IMAGE}"

[plugins.{images}.registry]
  config_path = "{layout.root / "containerd-certs.d"}"
"""


def registry_hosts() -> str:
    """containerd's hosts.toml for the local registry: plain HTTP on loopback (pull is done
    by containerd on the host, so 127.0.0.1 is the registry for pods too)."""
    return f"""server = "http://{REGISTRY}"

[host."http://{REGISTRY}"]
  capabilities = ["pull", "resolve"]
"""


def cni_config(layout: Layout) -> str:
    """A bridge network with no masquerade: pod traffic has no way off this machine."""
    config = {
        "cniVersion": "1.0.0",
        "name": layout.name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": NODE_POD_CIDR, "gateway": NODE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.root / "cni" / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(config, indent=2)


def kubelet_config(layout: Layout) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(layout.pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupsPerQOS": True,
        "cgroupRoot": "/",
        # Kubernetes >= 1.35 refuses cgroup v1 unless told; this host has only v1 controllers.
        "failCgroupV1": False,
        "failSwapOn": False,
        # The node is this whole machine, shared with the control plane and the tests.
        "enforceNodeAllocatable": [],
        "clusterDNS": [DNS_SERVICE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(layout.root / "resolv.conf"),
        "podCIDR": NODE_POD_CIDR,
        "podLogsDir": str(layout.root / "pod-logs"),
        "staticPodPath": str(layout.root / "static-pods"),
        "volumePluginDir": str(layout.root / "volume-plugins"),
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 95,
        "imageGCLowThresholdPercent": 90,
        # The node's disk is the developer's: a full disk must not evict the release's pods
        # (kind turns disk-based eviction off the same way); per-pod ephemeral-storage
        # limits still apply.
        "evictionHard": {
            "memory.available": "200Mi",
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
        },
        "rotateCertificates": False,
        "shutdownGracePeriod": "0s",
    }
    return yaml.safe_dump(config, sort_keys=False)


def kube_proxy_config(layout: Layout) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig("kube-proxy"))},
        "hostnameOverride": layout.node_name,
        "clusterCIDR": CLUSTER_POD_CIDR,
        "bindAddress": NODE_IP,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # NodePorts answer on loopback only: the local release is reached on 127.0.0.1.
        "nodePortAddresses": list(NODE_PORT_ADDRESSES),
        # Leave the host's conntrack table size alone (its sysctls are not ours to change).
        "conntrack": {"maxPerCore": 0, "min": 0},
    }
    return yaml.safe_dump(config, sort_keys=False)


def corefile(layout: Layout) -> str:
    """Cluster names only: no `forward`, so nothing is resolved through outside servers."""
    return f""".:53 {{
    bind {NODE_IP}
    errors
    health 127.0.0.1:10054
    ready 127.0.0.1:10181
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {layout.kubeconfig("coredns")} {layout.name}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
    loadbalance
}}
"""


def registry_config(layout: Layout) -> str:
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {
            "filesystem": {"rootdirectory": str(layout.registry_storage)},
            "delete": {"enabled": True},
        },
        "http": {"addr": REGISTRY},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_configs(layout: Layout) -> None:
    """Write every config file (cheap; rewritten on each start so upgrades apply)."""
    files: dict[Path, str] = {
        layout.root / "containerd.toml": containerd_config(layout),
        layout.root / "containerd-certs.d" / REGISTRY / "hosts.toml": registry_hosts(),
        layout.root / "cni" / "net.d" / "10-image-classifier.conflist": cni_config(layout),
        layout.root / "kubelet.yaml": kubelet_config(layout),
        layout.root / "kube-proxy.yaml": kube_proxy_config(layout),
        layout.root / "Corefile": corefile(layout),
        layout.root / "registry.yaml": registry_config(layout),
        # Pods resolve cluster names only; the node has no upstream resolver to hand them.
        layout.root / "resolv.conf": f"nameserver {DNS_SERVICE_IP}\n",
    }
    for identity in client_identities(layout):
        files[layout.kubeconfig(identity.file)] = kubeconfig(layout, identity.file)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for directory in ("static-pods", "volume-plugins", "pod-logs"):
        (layout.root / directory).mkdir(parents=True, exist_ok=True)
