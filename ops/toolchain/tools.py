"""The Go-built tools: how each is built, and its cached, version-keyed install."""

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ops.toolchain import gobuild, versions
from ops.toolchain.gobuild import WrapperBuild
from ops.toolchain.paths import tool_dir

PULUMI_SDK = "github.com/pulumi/pulumi/sdk/v3"
PULUMI_PKG = "github.com/pulumi/pulumi/pkg/v3"
PULUMI_VERSION_VAR = f"{PULUMI_SDK}/go/common/version.Version"
K8S_PROVIDER = "github.com/pulumi/pulumi-kubernetes/provider/v4"
K8S_GO_SDK = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
NETWORK_POLICIES_PATCH = (
    Path(__file__).parent / "patches" / "kube-network-policies-0.8.0-xtables-nfqueue.patch"
)
PROVIDER_LOCK = "pulumi-resource-kubernetes"
PROVIDER_COMMAND = "cmd/pulumi-resource-kubernetes"
LANGUAGE_HOST_PACKAGE = "./python/cmd/pulumi-language-python"
LANGUAGE_HOST_PATCH = (
    Path(__file__).parent / "patches" / "pulumi-language-python-3.79.0-runplugin.patch"
)


@dataclass(frozen=True)
class Tool:
    """A tool at a pinned version, the binaries it provides, and how to build them."""

    name: str
    version: str
    binaries: tuple[str, ...]
    build: Callable[[Path], None]
    # Measured cold (empty Go caches, in TOOLS' order) on 2 idle cores, 2026-12-02: what setup
    # announces.
    cold_build_seconds: int

    @property
    def directory(self) -> Path:
        return tool_dir(self.name, self.version)

    def is_installed(self) -> bool:
        return (self.directory / ".complete").exists()

    def install(self) -> None:
        """Build into a temporary sibling directory, then rename: never a half-built tool."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.name}-", dir=self.directory.parent))
        try:
            self.build(staging)
            for binary in self.binaries:
                if not (staging / binary).exists():
                    raise gobuild.BuildError(f"{self.name}: build produced no {binary}")
            (staging / ".complete").write_text(self.version + "\n")
            shutil.rmtree(self.directory, ignore_errors=True)
            staging.rename(self.directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _helm3(out: Path) -> None:
    gobuild.go_install(
        "helm.sh/helm/v3/cmd/helm",
        f"v{versions.HELM3}",
        out / "helm",
        {
            "helm.sh/helm/v3/internal/version.version": f"v{versions.HELM3}",
            "helm.sh/helm/v3/internal/version.gitTreeState": "clean",
            # helm's Makefile derives these from client-go; we pin them to the cluster we run,
            # so `helm template` renders .Capabilities for the pinned Kubernetes.
            "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor": "1",
            "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor": versions.kubernetes_minor(),
            "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor": "1",
            "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor": versions.kubernetes_minor(),
        },
    )


def _helm4(out: Path) -> None:
    gobuild.go_install(
        "helm.sh/helm/v4/cmd/helm",
        f"v{versions.HELM4}",
        out / "helm4",
        {
            "helm.sh/helm/v4/internal/version.version": f"v{versions.HELM4}",
            "helm.sh/helm/v4/internal/version.gitTreeState": "clean",
        },
    )


def _kube_score(out: Path) -> None:
    gobuild.go_install(
        "github.com/zegl/kube-score/cmd/kube-score",
        f"v{versions.KUBE_SCORE}",
        out / "kube-score",
        {"main.version": versions.KUBE_SCORE},
    )


def etcd_build() -> WrapperBuild:
    module = "go.etcd.io/etcd/server/v3"
    return WrapperBuild(
        lock="etcd",
        requires={module: f"v{versions.ETCD}"},
        packages={"etcd": module},
        variables={"go.etcd.io/etcd/api/v3/version.GitSHA": f"v{versions.ETCD}"},
    )


def _etcd(out: Path) -> None:
    gobuild.build_wrapped(etcd_build(), out)


def kubernetes_build(packages: tuple[str, ...]) -> WrapperBuild:
    """A wrapper build of `packages` (names under k8s.io/kubernetes/cmd) at KUBERNETES.

    k8s.io/kubernetes points every staging module at ./staging; the wrapper points each at
    the published release of the same version instead.
    """
    version = versions.KUBERNETES
    source = gobuild.module_dir("k8s.io/kubernetes", f"v{version}")
    staging = sorted(
        line.split()[0]
        for line in (source / "go.mod").read_text().splitlines()
        if "=> ./staging/" in line
    )
    git_version = f"v{version}"
    major, minor, patch = version.split(".")
    variables: dict[str, str] = {}
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        variables |= {
            f"{package}.gitVersion": git_version,
            f"{package}.gitMajor": major,
            f"{package}.gitMinor": minor,
            f"{package}.gitTreeState": "clean",
            f"{package}.buildDate": "1970-01-01T00:00:00Z",
        }
    return WrapperBuild(
        lock="kubernetes",
        requires={"k8s.io/kubernetes": git_version},
        replaces={module: f"{module} v0.{minor}.{patch}" for module in staging},
        packages={name: f"k8s.io/kubernetes/cmd/{name}" for name in packages},
        variables=variables,
    )


CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
NODE = ("kubelet", "kube-proxy")


def _kubernetes(out: Path) -> None:
    """The control plane and kubectl."""
    gobuild.build_wrapped(kubernetes_build(CONTROL_PLANE), out)


def _kubernetes_node(out: Path) -> None:
    """kubelet and kube-proxy, plus the pod sandbox's `pause` program from the same source."""
    gobuild.build_wrapped(kubernetes_build(NODE), out)
    source = gobuild.module_dir("k8s.io/kubernetes", f"v{versions.KUBERNETES}")
    subprocess.run(
        [
            "gcc",
            "-Os",
            "-static",
            "-Wall",
            f'-DVERSION="v{versions.KUBERNETES}"',
            "-o",
            str(out / "pause"),
            str(source / "build" / "pause" / "linux" / "pause.c"),
        ],
        check=True,
    )


def _containerd(out: Path) -> None:
    """containerd, its runc shim and ctr; no CGO, so the storage drivers that need it are off."""
    for binary in ("containerd", "containerd-shim-runc-v2", "ctr"):
        gobuild.go_install(
            f"github.com/containerd/containerd/v2/cmd/{binary}",
            f"v{versions.CONTAINERD}",
            out / binary,
            {"github.com/containerd/containerd/v2/version.Version": f"v{versions.CONTAINERD}"},
            tags=("no_btrfs", "no_devmapper", "no_zfs"),
        )


def _coredns(out: Path) -> None:
    gobuild.go_install("github.com/coredns/coredns", f"v{versions.COREDNS}", out / "coredns", {})


def _metrics_server(out: Path) -> None:
    gobuild.go_install(
        "sigs.k8s.io/metrics-server/cmd/metrics-server",
        f"v{versions.METRICS_SERVER}",
        out / "metrics-server",
        {"k8s.io/client-go/pkg/version.gitVersion": f"v{versions.METRICS_SERVER}"},
    )


def _kube_network_policies(out: Path) -> None:
    """The NetworkPolicy agent, patched: this kernel has no nftables `queue` expression (it
    boots with `nomodule`), so the three queue rules use the xtables NFQUEUE target instead;
    it also takes --kubeconfig (it runs on the host, not in a pod) and cleans up on SIGTERM."""
    with tempfile.TemporaryDirectory(prefix="kube-network-policies-") as tmp:
        tree = network_policies_tree(Path(tmp))
        gobuild.build_package("./cmd", out / "kube-network-policies", tree)


def _patched_copy(source: Path, patch: Path, tree: Path) -> Path:
    _writable_copy(source, tree)
    subprocess.run(["patch", "-p1", "-i", str(patch)], cwd=tree, check=True)
    return tree


def network_policies_tree(directory: Path) -> Path:
    """kube-network-policies' module, patched, in `directory` (its own go.sum still applies)."""
    source = gobuild.module_dir(
        "sigs.k8s.io/kube-network-policies", f"v{versions.KUBE_NETWORK_POLICIES}"
    )
    return _patched_copy(source, NETWORK_POLICIES_PATCH, directory / "src")


def _registry(out: Path) -> None:
    gobuild.go_install(
        "github.com/distribution/distribution/v3/cmd/registry",
        f"v{versions.DISTRIBUTION}",
        out / "registry",
        {"github.com/distribution/distribution/v3/version.version": f"v{versions.DISTRIBUTION}"},
    )


def pulumi_build() -> WrapperBuild:
    """The CLI (pkg/v3 replaces sdk/v3 with ../sdk, so only a wrapper can build it)."""
    pkg_source = gobuild.module_dir(PULUMI_PKG, f"v{versions.PULUMI}")
    replaces = {
        line.split()[1]: " ".join(line.split()[3:])
        for line in (pkg_source / "go.mod").read_text().splitlines()
        if line.startswith("replace ") and "=> ." not in line
    }
    return WrapperBuild(
        lock="pulumi",
        requires={PULUMI_PKG: f"v{versions.PULUMI}", PULUMI_SDK: f"v{versions.PULUMI}"},
        replaces=replaces,
        packages={"pulumi": f"{PULUMI_PKG}/cmd/pulumi"},
        variables={PULUMI_VERSION_VAR: f"v{versions.PULUMI}"},
        tags=("osusergo", "grpcnotrace"),
    )


def _pulumi(out: Path) -> None:
    gobuild.build_wrapped(pulumi_build(), out)


def _writable_copy(source: Path, target: Path) -> None:
    """Copy a (read-only) module cache directory so it can be patched or generated into."""
    shutil.copytree(source, target)
    for root, dirs, files in os.walk(target):
        for name in dirs + files:
            path = Path(root) / name
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _install_script(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    target.chmod(0o755)


def _pulumi_language_python(out: Path) -> None:
    """The Python language host, patched for the newer CLI, plus the pinned SDK's scripts.

    The patch makes RunPlugin read the plugin directory from the field newer engines send
    (policy packs would otherwise run the program itself).
    """
    with tempfile.TemporaryDirectory(prefix="pulumi-sdk-") as tmp:
        tree = language_host_tree(Path(tmp))
        gobuild.build_package(
            LANGUAGE_HOST_PACKAGE,
            out / "pulumi-language-python",
            tree,
            {PULUMI_VERSION_VAR: f"v{versions.PULUMI_LANGUAGE_HOST}"},
        )
    sdk = gobuild.module_dir(PULUMI_SDK, f"v{versions.PULUMI}")
    _install_script(
        sdk / "python/cmd/pulumi-language-python-exec", out / "pulumi-language-python-exec"
    )
    # Dynamic providers (infra/local_cluster_provider.py) run through this script.
    _install_script(
        sdk / "python/dist/pulumi-resource-pulumi-python", out / "pulumi-resource-pulumi-python"
    )


def provider_tree(tree: Path) -> Path:
    """provider/ and a Go SDK side by side in `tree`; returns the provider module."""
    provider = gobuild.module_dir(K8S_PROVIDER, versions.PULUMI_KUBERNETES_COMMIT)
    sdk = gobuild.module_dir(K8S_GO_SDK, f"v{versions.PULUMI_KUBERNETES_GO_SDK}")
    _writable_copy(provider, tree / "provider")
    _writable_copy(sdk, tree / "sdk")
    # The stand-in SDK asks for a newer pulumi/sdk than the provider's pkg/v3 compiles with.
    gobuild.run_go(
        ["mod", "edit", f"-require={PULUMI_SDK}@{_required_version(provider, PULUMI_PKG)}"],
        tree / "sdk",
    )
    return tree / "provider"


def language_host_tree(directory: Path) -> Path:
    """The language host's sdk/ module, patched, in `directory` (its own go.sum applies)."""
    host = gobuild.module_dir(PULUMI_SDK, f"v{versions.PULUMI_LANGUAGE_HOST}")
    return _patched_copy(host, LANGUAGE_HOST_PATCH, directory / "sdk")


def _pulumi_resource_kubernetes(out: Path) -> None:
    """The provider: its tree with the locked go.mod/go.sum, the embeds generated, built."""
    with tempfile.TemporaryDirectory(prefix="k8s-provider-") as tmp:
        provider = provider_tree(Path(tmp))
        gobuild.apply_lock(PROVIDER_LOCK, provider)
        cmd = provider / PROVIDER_COMMAND
        gobuild.run_go(["run", "generate.go"], cmd, {"VERSION": versions.PULUMI_KUBERNETES})
        gobuild.build_package(
            ".",
            out / "pulumi-resource-kubernetes",
            cmd,
            {f"{K8S_PROVIDER}/pkg/version.Version": versions.PULUMI_KUBERNETES},
        )


def _required_version(module_root: Path, module: str) -> str:
    """The version `module_root`'s go.mod requires of `module`."""
    for line in (module_root / "go.mod").read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in (module, "require") and module in words:
            return words[words.index(module) + 1]
    raise gobuild.BuildError(f"{module_root}/go.mod does not require {module}")


TOOLS: tuple[Tool, ...] = (
    Tool("helm3", versions.HELM3, ("helm",), _helm3, 94),
    Tool("helm4", versions.HELM4, ("helm4",), _helm4, 113),
    Tool("etcd", versions.ETCD, ("etcd",), _etcd, 32),
    Tool(
        "kubernetes",
        versions.KUBERNETES,
        ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"),
        _kubernetes,
        300,
    ),
    Tool(
        "kubernetes-node",
        versions.KUBERNETES,
        ("kubelet", "kube-proxy", "pause"),
        _kubernetes_node,
        30,
    ),
    Tool(
        "containerd",
        versions.CONTAINERD,
        ("containerd", "containerd-shim-runc-v2", "ctr"),
        _containerd,
        67,
    ),
    Tool("coredns", versions.COREDNS, ("coredns",), _coredns, 119),
    Tool("registry", versions.DISTRIBUTION, ("registry",), _registry, 75),
    Tool("metrics-server", versions.METRICS_SERVER, ("metrics-server",), _metrics_server, 180),
    Tool(
        "kube-network-policies",
        f"{versions.KUBE_NETWORK_POLICIES}-xtables-nfqueue",
        ("kube-network-policies",),
        _kube_network_policies,
        88,
    ),
    Tool("kube-score", versions.KUBE_SCORE, ("kube-score",), _kube_score, 21),
    Tool("pulumi", versions.PULUMI, ("pulumi",), _pulumi, 240),
    Tool(
        "pulumi-language-python",
        f"{versions.PULUMI_LANGUAGE_HOST}-runplugin-sdk{versions.PULUMI}",
        ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python"),
        _pulumi_language_python,
        22,
    ),
    Tool(
        "pulumi-resource-kubernetes",
        versions.PULUMI_KUBERNETES,
        ("pulumi-resource-kubernetes",),
        _pulumi_resource_kubernetes,
        600,
    ),
)


def lock_go_modules() -> list[Path]:
    """Resolve every module the builds generate or edit and save its go.mod/go.sum in gomod/.

    The other builds use a published module's own go.sum (`go install path@version`)."""
    locks = [
        gobuild.lock_wrapped(spec)
        for spec in (etcd_build(), kubernetes_build(CONTROL_PLANE + NODE), pulumi_build())
    ]
    with tempfile.TemporaryDirectory(prefix="k8s-provider-") as tmp:
        provider = provider_tree(Path(tmp))
        gobuild.run_go(["mod", "tidy"], provider, locking=True)
        locks.append(gobuild.save_lock(provider, PROVIDER_LOCK))
    return locks
