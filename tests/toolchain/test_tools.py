"""The built tools answer with the pinned versions, and setup reuses its caches."""

import os
import subprocess
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from toolchain import versions
from toolchain.install import pulumi_environment
from toolchain.paths import bin_dir

pytestmark = pytest.mark.toolchain


def run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=REPO_ROOT
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("binary", "expected"),
    [
        ("helm", f'Version:"v{versions.HELM3}"'),
        ("helm4", f'Version:"v{versions.HELM4}"'),
        ("pulumi", f"v{versions.PULUMI}"),
        ("kube-apiserver", f"Kubernetes v{versions.KUBERNETES}"),
        ("kubelet", f"Kubernetes v{versions.KUBERNETES}"),
        ("kube-proxy", f"Kubernetes v{versions.KUBERNETES}"),
        ("etcd", f"etcd Version: {versions.ETCD}"),
        ("containerd", f"containerd github.com/containerd/containerd/v2 v{versions.CONTAINERD}"),
        ("ctr", f"ctr github.com/containerd/containerd/v2 v{versions.CONTAINERD}"),
        ("coredns", f"CoreDNS-{versions.COREDNS}"),
        ("registry", f"v{versions.DISTRIBUTION}"),
    ],
)
def test_tool_reports_pinned_version(binary: str, expected: str) -> None:
    flag = {"helm": "version", "helm4": "version", "pulumi": "version", "coredns": "-version"}
    assert expected in run(str(bin_dir() / binary), flag.get(binary, "--version"))


def test_pause_is_a_static_program_built_from_the_kubelet_source() -> None:
    output = run("file", "--dereference", str(bin_dir() / "pause"))
    assert "statically linked" in output
    assert f'pause.c "v{versions.KUBERNETES}"' in run(str(bin_dir() / "pause"), "-v")


def test_helm3_defaults_to_the_pinned_kubernetes_version() -> None:
    chart = Path(__file__).parent / "capabilities-chart"
    rendered = run(str(bin_dir() / "helm"), "template", "probe", str(chart))
    assert f"kubeVersion: v1.{versions.kubernetes_minor()}.0" in rendered


def test_pulumi_lists_the_built_kubernetes_provider_without_downloading() -> None:
    env = os.environ | pulumi_environment()
    listing = run(str(bin_dir() / "pulumi"), "plugin", "ls", env=env)
    assert "kubernetes" in listing
    assert versions.PULUMI_KUBERNETES in listing
    assert "download" not in listing.lower()


def test_kubectl_reports_client_and_server_versions(local_cluster: Path) -> None:
    env = dict(os.environ, KUBECONFIG=str(local_cluster))
    output = run(str(bin_dir() / "kubectl"), "version", env=env)
    assert f"Client Version: v{versions.KUBERNETES}" in output
    assert f"Server Version: v{versions.KUBERNETES}" in output


def test_second_setup_builds_nothing() -> None:
    output = run("python3", "-m", "toolchain", "tools")
    assert "building" not in output
    assert output.count("cached in") == len(output.strip().splitlines())


def test_unknown_environment_lists_the_known_ones() -> None:
    result = subprocess.run(
        ["make", "up", "ENV=nosuch"], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    assert result.returncode != 0
    assert "unknown environment 'nosuch'" in result.stderr
    assert "known: dev, local, prod, staging" in result.stderr
