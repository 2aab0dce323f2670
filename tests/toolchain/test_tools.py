"""The built tools answer with the pinned versions, and setup reuses its caches."""

import os
import subprocess
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from ops.toolchain import versions
from ops.toolchain.install import pulumi_environment
from ops.toolchain.paths import bin_dir
from ops.toolchain.released import PROBES, answers, find_released

pytestmark = pytest.mark.toolchain


def run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=REPO_ROOT
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.mark.parametrize("binary", sorted(PROBES))
def test_tool_reports_pinned_version(binary: str) -> None:
    assert answers(bin_dir() / binary, PROBES[binary]), f"{binary} is not the pinned version"


def test_released_binaries_of_the_pinned_version_are_used_instead_of_building(
    tmp_path: Path,
) -> None:
    released = tmp_path / "released-bin"
    released.mkdir()
    for binary in ("helm", "kube-score"):
        (released / binary).symlink_to((bin_dir() / binary).resolve())
    env = dict(os.environ, PATH=f"{released}:/usr/bin:/bin", XDG_CACHE_HOME=str(tmp_path / "c"))
    output = run("python3", "-m", "ops.toolchain", "tools", "helm3", "kube-score", env=env)
    assert f"helm3 {versions.HELM3}: using the released binaries {released / 'helm'}" in output
    assert "building" not in output
    linked = tmp_path / "c" / "image-classifier" / bin_dir().name / "helm"
    assert linked.resolve() == (released / "helm").resolve()


def test_a_released_binary_of_another_version_is_not_used(tmp_path: Path) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho 'version.BuildInfo{Version:\"v3.0.0\"}'\n")
    fake.chmod(0o755)
    assert find_released(("helm",), {"PATH": str(tmp_path)}) is None
    # Patched tools are always built: no probe accepts a stand-in.
    assert find_released(("kube-network-policies",), {"PATH": str(bin_dir())}) is None


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
    output = run("python3", "-m", "ops.toolchain", "tools")
    assert "building" not in output
    assert output.count("cached in") == len(output.strip().splitlines())


def test_unknown_environment_lists_the_known_ones() -> None:
    result = subprocess.run(
        ["make", "up", "ENV=nosuch"], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    assert result.returncode != 0
    assert "unknown environment 'nosuch'" in result.stderr
    assert "known: dev, local, prod, staging" in result.stderr
