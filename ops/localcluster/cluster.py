"""The local cluster: a real control plane and one real node, all host processes.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler form the control plane;
containerd (with Debian's runc and CNI plugins), the kubelet, kube-proxy and CoreDNS form the
node; metrics-server serves resource metrics (`kubectl top`, the HPA); kube-network-policies
enforces NetworkPolicy; CNCF Distribution is the registry images are pulled from. `up` starts
what is missing and waits for a Ready node; `down` removes pods through the API, stops every
process and undoes every change on the host (see localcluster.host).
"""

import contextlib
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ops.localcluster import addons, host, processes, registry
from ops.localcluster.configs import PAUSE_IMAGE, write_configs
from ops.localcluster.layout import (
    APISERVER_PORT,
    CLUSTER_POD_CIDR,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    METRICS_SERVER_PORT,
    NODE_IP,
    NODE_PORT_RANGE,
    SERVICE_CIDR,
    Layout,
)
from ops.localcluster.pki import ensure_pki
from ops.toolchain.install import kubeconfig_path
from ops.toolchain.paths import bin_dir

READY_TIMEOUT_SECONDS = 180
# Start order; `down` stops them in reverse.
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "registry",
    "containerd",
    "kubelet",
    "kube-proxy",
    "coredns",
    "metrics-server",
    "kube-network-policies",
)


class ClusterError(RuntimeError):
    """The local cluster could not be started, reached or stopped."""


class LocalCluster:
    """The one local cluster of this machine; `kubeconfig_path` is the admin's kubeconfig."""

    def __init__(self, layout: Layout | None = None) -> None:
        self.layout = layout or Layout()
        self.name = self.layout.name
        self.kubeconfig_path: Path = kubeconfig_path()

    def up(self) -> Path:
        """Start every component that is not running; wait for a Ready node; return kubeconfig."""
        if self.is_running():
            return self.kubeconfig_path
        if self.leftovers():
            # A machine restart or a killed session left a half-running cluster behind.
            self.down()
        layout = self.layout
        layout.root.mkdir(parents=True, exist_ok=True)
        ensure_pki(layout)
        write_configs(layout)
        try:
            host.prepare(layout)
            self._start_control_plane()
            self._start_node()
        except (processes.ProcessError, registry.RegistryError, host.HostError) as error:
            raise ClusterError(str(error)) from None
        self.kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(layout.kubeconfig("admin"), self.kubeconfig_path)
        return self.kubeconfig_path

    def down(self) -> None:
        """Stop everything and undo every host change; a cluster that is not there is fine."""
        layout = self.layout
        if processes.running_pid(layout, "kube-apiserver") and processes.running_pid(
            layout, "kubelet"
        ):
            self._remove_pods()
        for name in reversed(COMPONENTS):
            processes.stop(layout, name)
        # Shims (and anything else) still holding the cluster's directories.
        for pid in processes.processes_under((layout.root, layout.run)):
            processes.terminate(pid, timeout=5.0)
        if (bin_dir() / "kube-proxy").exists():
            subprocess.run(
                [str(bin_dir() / "kube-proxy"), "--cleanup"], capture_output=True, check=False
            )
        created = host.created_host_paths(layout)
        host.restore(layout)
        shutil.rmtree(layout.run, ignore_errors=True)
        shutil.rmtree(layout.root, ignore_errors=True)
        self.kubeconfig_path.unlink(missing_ok=True)
        remaining = self.leftovers() + [f"directory {path}" for path in created if path.exists()]
        if remaining:
            raise ClusterError("cluster-down left behind: " + "; ".join(remaining))

    def is_running(self) -> bool:
        """True when every component runs, the API server is ready and the node is Ready."""
        if not self.kubeconfig_path.exists():
            return False
        if any(processes.running_pid(self.layout, name) is None for name in COMPONENTS):
            return False
        return self._api_ready() and self._node_ready()

    def leftovers(self) -> list[str]:
        """Everything of the cluster's still on the host: processes, mounts, interfaces,
        iptables chains, cgroups and directories (empty after a clean `down`)."""
        layout = self.layout
        found = [
            f"process {cmd[:120]}"
            for cmd in processes.processes_under((layout.root, layout.run)).values()
        ]
        found += [f"mount {point}" for point in host.mounts_under((layout.root, layout.run))]
        found += ["network interface " + name for name in host.cluster_interfaces()]
        found += [f"iptables chain {chain}" for chain in host.kube_chains()]
        found += [f"nftables table {' '.join(table)}" for table in host.nft_tables()]
        found += [f"cgroup {path}" for path in host.cluster_cgroups()]
        found += [f"directory {path}" for path in (layout.root, layout.run) if path.exists()]
        return found

    def processes(self) -> list[str]:
        """Command lines of the cluster's live host processes."""
        return list(processes.processes_under((self.layout.root, self.layout.run)).values())

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        """Run the pinned kubectl as the cluster admin and return its stdout."""
        command = [str(bin_dir() / "kubectl"), "--kubeconfig", str(self.layout.kubeconfig("admin"))]
        result = subprocess.run(
            [*command, *args], input=stdin, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ClusterError(
                f"kubectl {' '.join(args)} failed (exit {result.returncode}): "
                f"{result.stderr.strip()}"
            )
        return result.stdout

    def _start_control_plane(self) -> None:
        layout, pki = self.layout, self.layout.pki
        etcd_url = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
        self._start(
            "etcd",
            "--name=local",
            f"--data-dir={layout.root / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{ETCD_PEER_PORT}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{ETCD_PEER_PORT}",
            f"--initial-cluster=local=http://127.0.0.1:{ETCD_PEER_PORT}",
            "--listen-metrics-urls=http://127.0.0.1:12381",
            # A throwaway cluster: losing the last writes on a machine crash costs nothing.
            "--unsafe-no-fsync",
            ready=lambda: _http_ok("http://127.0.0.1:12381/health"),
        )
        self._start(
            "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--bind-address={NODE_IP}",
            f"--advertise-address={NODE_IP}",
            f"--secure-port={APISERVER_PORT}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            "--kubelet-preferred-address-types=InternalIP",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--service-node-port-range={NODE_PORT_RANGE}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--profiling=false",
            # The aggregation layer (metrics-server): the front proxy's client identity.
            f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
            "--enable-aggregator-routing=true",
            ready=self._api_ready,
        )
        self._start(
            "kube-controller-manager",
            *self._component_kubeconfigs("kube-controller-manager"),
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            "--use-service-account-credentials=true",
            "--allocate-node-cidrs=true",
            f"--cluster-cidr={CLUSTER_POD_CIDR}",
            "--node-cidr-mask-size=24",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # Its default (/usr/libexec/kubernetes/...) would be created on the host.
            f"--flex-volume-plugin-dir={layout.root / 'volume-plugins'}",
            # A third of the default 15 s: on a laptop-sized cluster an autoscaler that reacts
            # within seconds is what one tries a chart's HPA with.
            "--horizontal-pod-autoscaler-sync-period=5s",
            ready=lambda: (
                _https_alive("https://127.0.0.1:10257/healthz") and self._default_service_account()
            ),
        )
        self._start(
            "kube-scheduler",
            *self._component_kubeconfigs("kube-scheduler"),
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            ready=lambda: _https_alive("https://127.0.0.1:10259/healthz"),
        )
        addons.apply(self)

    def _start_node(self) -> None:
        layout = self.layout
        self._start(
            "registry",
            "serve",
            str(layout.root / "registry.yaml"),
            env={"OTEL_TRACES_EXPORTER": "none"},
            ready=registry.is_serving,
        )
        pause_repository, pause_tag = PAUSE_IMAGE.split("/", 1)[1].split(":")
        if registry.manifest_digest(pause_repository, pause_tag) is None:
            pause_layout = layout.root / "pause-oci"
            registry.write_pause_layout(pause_layout, pause_tag)
            registry.push_oci_layout(pause_layout, pause_repository, pause_tag)
        self._start(
            "containerd",
            f"--config={layout.root / 'containerd.toml'}",
            ready=lambda: layout.containerd_socket.is_socket(),
        )
        self._start(
            "kubelet",
            f"--config={layout.root / 'kubelet.yaml'}",
            f"--kubeconfig={layout.kubeconfig('kubelet')}",
            f"--root-dir={layout.kubelet_root}",
            f"--cert-dir={layout.kubelet_root / 'pki'}",
            f"--node-ip={NODE_IP}",
            f"--hostname-override={layout.node_name}",
            ready=self._node_ready,
        )
        self._start(
            "kube-proxy",
            f"--config={layout.root / 'kube-proxy.yaml'}",
            ready=lambda: _http_ok("http://127.0.0.1:10256/healthz"),
        )
        self._start(
            "coredns",
            "-conf",
            str(layout.root / "Corefile"),
            ready=lambda: _http_ok("http://127.0.0.1:10181/ready"),
        )
        pki = layout.pki
        self._start(
            "metrics-server",
            *self._component_kubeconfigs("metrics-server"),
            f"--bind-address={NODE_IP}",
            f"--secure-port={METRICS_SERVER_PORT}",
            f"--tls-cert-file={pki / 'metrics-server-serving.crt'}",
            f"--tls-private-key-file={pki / 'metrics-server-serving.key'}",
            # The kubelet serves with a certificate it signed itself.
            "--kubelet-insecure-tls",
            "--kubelet-preferred-address-types=InternalIP",
            "--kubelet-use-node-status-port",
            # Its lower bound (the HPA sees load sooner); it must exceed the kubelet timeout.
            "--metric-resolution=10s",
            "--kubelet-request-timeout=5s",
            ready=lambda: _https_alive(f"https://{NODE_IP}:{METRICS_SERVER_PORT}/readyz"),
        )
        # NetworkPolicy: the bridge plugin enforces none (see ops/toolchain/patches for the change
        # that lets this agent queue packets on this kernel).
        self._start(
            "kube-network-policies",
            f"--kubeconfig={layout.kubeconfig('kube-network-policies')}",
            f"--hostname-override={layout.node_name}",
            "--metrics-bind-address=127.0.0.1:9080",
            ready=lambda: _http_ok("http://127.0.0.1:9080/metrics"),
        )

    def _start(
        self,
        name: str,
        *args: str,
        ready: Callable[[], bool],
        env: dict[str, str] | None = None,
    ) -> None:
        """Start one component unless it runs, then wait until `ready()` holds."""
        layout = self.layout
        started = time.monotonic()
        if processes.running_pid(layout, name) is None:
            processes.start(layout, name, args, env)
        if (
            not processes.wait_for(
                lambda: ready() or processes.running_pid(layout, name) is None,
                READY_TIMEOUT_SECONDS,
            )
            or processes.running_pid(layout, name) is None
        ):
            raise processes.ProcessError(
                f"{name} did not become ready in {time.monotonic() - started:.0f}s; "
                f"end of {layout.logs / (name + '.log')}:\n{processes.log_tail(layout, name)}"
            )

    def _component_kubeconfigs(self, identity: str) -> list[str]:
        kubeconfig = self.layout.kubeconfig(identity)
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
        ]

    def _api_ready(self) -> bool:
        result = subprocess.run(
            [str(bin_dir() / "kubectl"), "--kubeconfig", str(self.layout.kubeconfig("admin")),
             "get", "--raw", "/readyz", "--request-timeout=5s"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return result.returncode == 0 and result.stdout.strip() == "ok"

    def _default_service_account(self) -> bool:
        """Whether the controller-manager has made `default` in `default`: until then the API
        refuses every pod there ("serviceaccount default/default not found")."""
        try:
            self.kubectl("get", "serviceaccount", "default", "-n", "default", "-o", "name")
        except ClusterError:
            return False
        return True

    def _node_ready(self) -> bool:
        try:
            node = json.loads(self.kubectl("get", "node", self.layout.node_name, "-o", "json"))
        except ClusterError:
            return False
        conditions = {c["type"]: c["status"] for c in node["status"].get("conditions", [])}
        return conditions.get("Ready") == "True"

    def _remove_pods(self) -> None:
        """Delete every pod through the API, so the kubelet stops containers, releases their
        addresses (CNI DEL) and unmounts their volumes; controllers are stopped first so
        nothing replaces them."""
        for name in ("kube-controller-manager", "kube-scheduler"):
            processes.stop(self.layout, name)
        # What the kubelet cannot finish in time, `down` removes by force afterwards.
        with contextlib.suppress(ClusterError):
            self.kubectl(
                "delete", "pods", "--all", "--all-namespaces", "--wait=true", "--timeout=90s"
            )


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _https_alive(url: str) -> bool:
    """True when something answers TLS on `url` (its self-signed certificate is not checked)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError:
        return True  # 401/403: it serves, it just wants credentials
    except (urllib.error.URLError, OSError):
        return False
