"""The real engine on the local stack: up, idempotence, a config change, policy, destroy, and
Pulumi starting (and stopping) the local control plane itself.

The tests run in file order against one stack (module-scoped `project`); kwok's nodes are
simulated, so "Ready" means the API server and kwok agree, not that a container serves.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from deploy.pulumi_cli import PulumiCli, PulumiError
from envconfig import REPO_ROOT
from localcluster import LocalCluster
from toolchain.paths import bin_dir

pytestmark = pytest.mark.e2e

POLICY_PACK = str(REPO_ROOT / "policy")
PLUGINS = ("pulumi-language-python", "pulumi-resource-kubernetes", "pulumi-resource-pulumi-python")


def timed(cli: PulumiCli, *args: str) -> tuple[str, float]:
    started = time.monotonic()
    output = cli.run(*args)
    elapsed = time.monotonic() - started
    print(f"pulumi {' '.join(args[:3])}: {elapsed:.1f}s")
    return output, elapsed


def kubectl(kubeconfig: Path, *args: str) -> str:
    command = [str(bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def helm(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(bin_dir() / "helm"), "--kubeconfig", str(kubeconfig), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def deployment(kubeconfig: Path, outputs: dict) -> dict:
    name, namespace = outputs["releaseName"], outputs["releaseNamespace"]
    return json.loads(kubectl(kubeconfig, "get", "deployment", name, "-n", namespace, "-o", "json"))


def engine_processes(cli: PulumiCli) -> list[str]:
    """Live plugin processes started for this project's backend (found by their environment)."""
    backend = f"PULUMI_BACKEND_URL={cli.overrides['PULUMI_BACKEND_URL']}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if any(plugin in cmdline for plugin in PLUGINS) and backend in (
                proc / "environ"
            ).read_bytes().split(b"\0"):
                found.append(cmdline)
        except OSError:
            continue
    return found


def test_up_deploys_a_ready_release(project: PulumiCli, local_cluster: Path) -> None:
    timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
    outputs = project.outputs("local")
    status = helm(local_cluster, "status", outputs["releaseName"], "-n", "image-classifier")
    assert status.returncode == 0 and "STATUS: deployed" in status.stdout
    live = deployment(local_cluster, outputs)
    assert live["status"].get("readyReplicas") == live["spec"]["replicas"] == 1
    container = live["spec"]["template"]["spec"]["containers"][0]
    record = json.loads((REPO_ROOT / "build" / "images" / "local.json").read_text())
    assert container["image"].endswith("@" + record["digest"])
    assert outputs["imageDigest"] == record["digest"]
    assert outputs["clusterKind"] == "local"


def test_second_up_changes_nothing(project: PulumiCli) -> None:
    output, _ = timed(project, "up", "--yes", "--expect-no-changes", "--stack", "local")
    assert "unchanged" in output


def test_replicas_from_config_reach_the_deployment(project: PulumiCli, local_cluster: Path) -> None:
    project.run("config", "set", "--path", "chart.replicaCount", "2", "--stack", "local")
    timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
    outputs = project.outputs("local")
    live = deployment(local_cluster, outputs)
    assert live["spec"]["replicas"] == 2 and live["status"].get("readyReplicas") == 2
    assert outputs["releaseRevision"] == 2
    assert "replicaCount: 1" in (REPO_ROOT / "environments" / "Pulumi.local.yaml").read_text()


def test_policy_pack_passes_the_local_stack(project: PulumiCli) -> None:
    output, _ = timed(project, "preview", "--policy-pack", POLICY_PACK, "--stack", "local")
    assert "image-classifier@" in output


def test_policy_pack_rejects_an_open_load_balancer(project: PulumiCli) -> None:
    project.run("config", "set", "--path", "chart.service.type", "LoadBalancer", "-s", "local")
    try:
        with pytest.raises(PulumiError) as rejected:
            project.run("preview", "--policy-pack", POLICY_PACK, "--stack", "local")
    finally:
        project.run("config", "rm", "--path", "chart.service", "--stack", "local")
    assert "no-open-load-balancer" in str(rejected.value)
    assert "loadBalancerSourceRanges is empty" in str(rejected.value)


def test_dev_previews_against_the_local_cluster_as_existing(project: PulumiCli) -> None:
    output, _ = timed(project, "preview", "--stack", "dev")
    assert "kubernetes:helm.sh/v3:Release" in output and "+ " in output


def test_destroy_leaves_no_release_namespace_or_process(
    project: PulumiCli, local_cluster: Path
) -> None:
    outputs = project.outputs("local")
    timed(project, "destroy", "--yes", "--skip-preview", "--stack", "local")
    releases = helm(local_cluster, "list", "--all-namespaces", "-q").stdout.split()
    assert outputs["releaseName"] not in releases
    namespaces = kubectl(local_cluster, "get", "namespaces", "-o", "name").split()
    assert f"namespace/{outputs['releaseNamespace']}" not in namespaces
    assert engine_processes(project) == []


def test_up_starts_a_stopped_cluster_and_destroy_stops_it(
    project: PulumiCli, local_cluster: Path
) -> None:
    cluster = LocalCluster()
    cluster.down()
    try:
        timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
        assert cluster.is_running()
        outputs = project.outputs("local")
        assert outputs["kubeconfig"] == local_cluster.read_text()
        live = deployment(local_cluster, outputs)
        assert live["status"].get("readyReplicas") == live["spec"]["replicas"]
        # Pulumi started this cluster, so destroying the stack stops it again.
        timed(project, "destroy", "--yes", "--skip-preview", "--stack", "local")
        assert not cluster.is_running() and cluster.processes() == []
    finally:
        cluster.up()  # the rest of the session shares it
