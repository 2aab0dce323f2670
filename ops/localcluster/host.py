"""What the cluster changes on the host, made and undone: bridge, routes, firewall, sysctls,
mounts and cgroups.

Pod traffic stays on this machine: the bridge's subnets are routed to the bridge itself, the
CNI plugin does not masquerade, and the IC-ISOLATION chain rejects anything forwarded between
the bridge and any other interface.
"""

import contextlib
import json
import shlex
import shutil
import subprocess
from pathlib import Path

from ops.localcluster.layout import BRIDGE, CLUSTER_POD_CIDR, NODE_IP, SERVICE_CIDR, Layout

ISOLATION_CHAIN = "IC-ISOLATION"
SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Cgroups the kubelet and containerd create under each v1 controller.
CGROUP_NAMES = ("kubepods", "k8s.io")
# Chains the kubelet and kube-proxy leave in each table after they stop.
KUBE_CHAIN_PREFIXES = ("KUBE-",)
# Paths the components create whatever their flags say: the kubelet's device-plugin directory,
# containerd's default state directory (its shims' sockets always go there) and its NRI socket
# (kube-network-policies learns pod addresses through it). Removed on `down` only if the
# cluster created them.
FIXED_HOST_PATHS = (Path("/var/lib/kubelet"), Path("/run/containerd"), Path("/run/nri"))
# kube-network-policies deletes its nftables table when stopped; a killed one leaves it.
NFT_TABLES = (("inet", "kube-network-policies"), ("inet", "kube-network-policies-dnscache"))


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


class HostError(RuntimeError):
    """The host is not in a state the cluster can start from."""


def prepare(layout: Layout) -> None:
    """Record the sysctls we may change, then create the bridge, routes and isolation chain."""
    foreign = [chain for chain in kube_chains() if "/KUBE-" in chain]
    if not bridge_exists() and foreign:
        # `restore` deletes every KUBE-* chain: only safe when they are all ours.
        raise HostError(
            f"iptables already holds Kubernetes chains ({', '.join(foreign[:3])}, ...): "
            "another node runs on this host; stop it first"
        )
    saved = layout.root / "host-sysctls.json"
    if not saved.exists():
        saved.write_text(json.dumps({name: _read_sysctl(name) for name in SYSCTLS}))
    if not bridge_exists():
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", f"{NODE_IP}/24", "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")
    for cidr in (SERVICE_CIDR, CLUSTER_POD_CIDR):
        # More specific than any default route: unanswered cluster addresses end on the bridge.
        _run("ip", "route", "replace", cidr, "dev", BRIDGE, "src", NODE_IP)
    if _run("iptables", "-n", "-L", ISOLATION_CHAIN, check=False).returncode != 0:
        _run("iptables", "-N", ISOLATION_CHAIN)
        _run("iptables", "-A", ISOLATION_CHAIN, "-i", BRIDGE, "-o", BRIDGE, "-j", "RETURN")
        _run("iptables", "-A", ISOLATION_CHAIN, "-i", BRIDGE, "-j", "REJECT")
        _run("iptables", "-A", ISOLATION_CHAIN, "-o", BRIDGE, "-j", "REJECT")
    if _run("iptables", "-C", "FORWARD", "-j", ISOLATION_CHAIN, check=False).returncode != 0:
        _run("iptables", "-I", "FORWARD", "1", "-j", ISOLATION_CHAIN)
    # Pod-to-Service traffic between pods on the same bridge is routed through the host.
    _write_sysctl("net/ipv4/ip_forward", "1")
    _write_sysctl("net/bridge/bridge-nf-call-iptables", "1")
    created = layout.root / "created-host-paths"
    if not created.exists():
        created.write_text("".join(f"{path}\n" for path in FIXED_HOST_PATHS if not path.exists()))


def restore(layout: Layout) -> None:
    """Undo `prepare` and whatever the kubelet, kube-proxy and CNI left on the host."""
    unmount_under((layout.root, layout.run))
    for family, table in nft_tables():
        _run("nft", "delete", "table", family, table, check=False)
    for table in ("filter", "nat", "mangle"):
        _delete_chains(table)
    _run("ip", "link", "delete", BRIDGE, check=False)
    for cidr in (SERVICE_CIDR, CLUSTER_POD_CIDR):
        _run("ip", "route", "delete", cidr, check=False)
    saved = layout.root / "host-sysctls.json"
    if saved.exists():
        for name, value in json.loads(saved.read_text()).items():
            if value is not None:
                _write_sysctl(name, value)
    remove_cgroups()
    for path in created_host_paths(layout):
        shutil.rmtree(path, ignore_errors=True)


def created_host_paths(layout: Layout) -> list[Path]:
    """The fixed host paths that did not exist before the cluster first started."""
    created = layout.root / "created-host-paths"
    return [Path(line) for line in created.read_text().split()] if created.exists() else []


def bridge_exists() -> bool:
    return Path(f"/sys/class/net/{BRIDGE}").exists()


def cluster_interfaces() -> list[str]:
    """The bridge and the pods' veth ends on it, while any exist."""
    if not bridge_exists():
        return []
    ports = Path(f"/sys/class/net/{BRIDGE}/brif")
    return [BRIDGE, *sorted(p.name for p in ports.iterdir())] if ports.exists() else [BRIDGE]


def mounts_under(roots: tuple[Path, ...]) -> list[str]:
    """Mount points below the cluster's directories, deepest first."""
    prefixes = [str(root) + "/" for root in roots]
    points = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if any(point.startswith(prefix) for prefix in prefixes):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_under(roots: tuple[Path, ...]) -> None:
    for point in mounts_under(roots):
        _run("umount", "-l", point, check=False)


def kube_chains() -> list[str]:
    """`table/chain` of every iptables chain the cluster's components create."""
    found = []
    for table in ("filter", "nat", "mangle"):
        listing = _run("iptables", "-t", table, "-S", check=False).stdout
        for line in listing.splitlines():
            words = line.split()
            if words[:1] == ["-N"] and _is_cluster_chain(words[1]):
                found.append(f"{table}/{words[1]}")
    return found


def nft_tables() -> list[tuple[str, str]]:
    """The network policy agent's nftables tables that exist now."""
    if shutil.which("nft") is None:
        return []
    listing = _run("nft", "list", "tables", check=False).stdout.split("\n")
    present = {tuple(line.split()[1:3]) for line in listing if line.startswith("table ")}
    return [table for table in NFT_TABLES if table in present]


def cluster_cgroups() -> list[Path]:
    """The kubelet's and containerd's cgroups under each v1 controller."""
    return [
        path
        for controller in CGROUP_ROOT.iterdir()
        for name in CGROUP_NAMES
        if (path := controller / name).is_dir()
    ]


def remove_cgroups() -> None:
    """Remove the (empty, once every pod is gone) cgroup trees, leaves first."""
    for top in cluster_cgroups():
        for directory in sorted(
            (p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        ):
            _rmdir(directory)
        _rmdir(top)


def _rmdir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _is_cluster_chain(chain: str) -> bool:
    return chain == ISOLATION_CHAIN or chain.startswith(KUBE_CHAIN_PREFIXES)


def _delete_chains(table: str) -> None:
    """Remove the rules that jump to cluster chains, then flush and delete those chains."""
    rules = _run("iptables", "-t", table, "-S", check=False).stdout.splitlines()
    for rule in rules:
        words = shlex.split(rule)
        if words[:1] == ["-A"] and not _is_cluster_chain(words[1]) and "-j" in words:
            target = words[words.index("-j") + 1]
            if _is_cluster_chain(target):
                _run("iptables", "-t", table, "-D", *words[1:], check=False)
    chains = [
        w.split()[1] for w in rules if w.startswith("-N ") and _is_cluster_chain(w.split()[1])
    ]
    for chain in chains:
        _run("iptables", "-t", table, "-F", chain, check=False)
    for chain in chains:
        _run("iptables", "-t", table, "-X", chain, check=False)


def _read_sysctl(name: str) -> str | None:
    try:
        return (Path("/proc/sys") / name).read_text().strip()
    except OSError:
        return None


def _write_sysctl(name: str, value: str) -> None:
    with contextlib.suppress(OSError):
        (Path("/proc/sys") / name).write_text(value + "\n")
