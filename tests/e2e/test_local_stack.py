"""The local stack after its first release (test_release.py): a new model version rolls out
under load, a pod dies under load, and neither loses a request; the policy pack runs; dev
deploys to the running cluster; `pulumi destroy` stops the cluster and leaves nothing.

The tests run in file order against the local stack of the session's `project`; they end
with it destroyed and the cluster stopped, so this module is the session's last.
"""

import json
import time
from pathlib import Path

import pytest

from imagebuild.record import ImageRecord, load_record
from ops.deploy.orchestrate import wait_until_ready
from ops.deploy.pulumi_cli import PulumiCli, PulumiError
from ops.localcluster import LocalCluster
from ops.localcluster.layout import REGISTRY
from policy import PACK_DIR
from tests.e2e.kube import deployment, kubectl, release_pods
from tests.e2e.load import assert_no_request_lost, digit_load
from tests.e2e.stack import settled_pods, timed

pytestmark = pytest.mark.e2e

POLICY_PACK = str(PACK_DIR)
PLUGINS = ("pulumi-language-python", "pulumi-resource-kubernetes", "pulumi-resource-pulumi-python")


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


def test_a_new_model_version_rolls_out_under_load_without_a_failed_request(
    project: PulumiCli, local_cluster: Path, next_model_record: Path
) -> None:
    before = project.outputs("local")
    new: ImageRecord = load_record(next_model_record)
    assert str(new.image.model_version) != str(before["modelVersion"])
    project.run("config", "set", "imageRecord", str(next_model_record), "--stack", "local")
    with digit_load() as load:
        time.sleep(3)
        timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
        time.sleep(3)
    report = load.report
    assert_no_request_lost(report)
    old_version, new_version = str(before["modelVersion"]), str(new.image.model_version)
    assert set(report.versions) == {old_version, new_version}
    answers = [version for _, version in report.timeline]
    # Old answers first, then the switch; once the rollout is over only the new model answers.
    assert answers[0] == old_version and answers[-1] == new_version
    outputs = project.outputs("local")
    assert outputs["releaseRevision"] == before["releaseRevision"] + 1
    assert outputs["image"].endswith(new.serving("").archive_digest)


def test_a_pod_deleted_under_load_loses_no_request(project: PulumiCli, local_cluster: Path) -> None:
    outputs = project.outputs("local")
    victim = settled_pods(local_cluster, outputs, 2)[0]
    with digit_load() as load:
        time.sleep(2)
        kubectl(local_cluster, "delete", "pod", victim, "-n", outputs["releaseNamespace"])
        kubectl(
            local_cluster, "rollout", "status", f"deployment/{outputs['releaseName']}",
            "-n", outputs["releaseNamespace"], "--timeout=120s",
        )  # fmt: skip
        time.sleep(2)
    assert_no_request_lost(load.report)
    names = {pod["metadata"]["name"] for pod in release_pods(local_cluster, outputs)}
    assert victim not in names and len(names) == 2


def test_policy_pack_passes_the_local_stack(project: PulumiCli) -> None:
    output, _ = timed(project, "preview", "--policy-pack", POLICY_PACK, "--stack", "local")
    assert "image-classifier@" in output


def test_up_with_the_policy_pack_refuses_an_open_load_balancer(
    project: PulumiCli, local_cluster: Path
) -> None:
    before = project.outputs("local")
    project.run("config", "set", "--path", "chart.service.type", "LoadBalancer", "-s", "local")
    try:
        with pytest.raises(PulumiError) as rejected:
            # What `make up` runs.
            project.run(
                "up", "--yes", "--skip-preview", "--policy-pack", POLICY_PACK, "-s", "local"
            )
    finally:
        project.run("config", "set", "--path", "chart.service.type", "NodePort", "-s", "local")
    assert "no-open-load-balancer" in str(rejected.value)
    # Refused before anything changed: the release is as it was.
    service = kubectl(
        local_cluster, "get", "service", before["releaseName"], "-n", before["releaseNamespace"],
        "-o", "jsonpath={.spec.type}",
    )  # fmt: skip
    assert service == "NodePort"


def test_dev_deploys_to_an_existing_cluster_through_its_registry(
    project: PulumiCli, local_cluster: Path, local_image_record: Path
) -> None:
    timed(project, "up", "--yes", "--skip-preview", "--stack", "dev")
    outputs = project.outputs("dev")
    record = load_record(local_image_record)
    released = record.serving("")
    assert outputs["image"] == f"{REGISTRY}/image-classifier@{released.archive_digest}"
    assert "localhost/" not in json.dumps(deployment(local_cluster, outputs))
    namespace = outputs["releaseNamespace"]
    service = json.loads(
        kubectl(
            local_cluster, "get", "service", outputs["releaseName"], "-n", namespace, "-o", "json"
        )
    )
    # The host reaches a ClusterIP through kube-proxy's rules, as a pod would.
    wait_until_ready(f"http://{service['spec']['clusterIP']}:80")
    timed(project, "destroy", "--yes", "--skip-preview", "--stack", "dev")
    assert namespace not in kubectl(local_cluster, "get", "namespaces", "-o", "name")


def test_destroy_removes_the_release_and_stops_the_cluster_it_started(
    project: PulumiCli, local_cluster: Path
) -> None:
    cluster = LocalCluster()
    assert cluster.is_running()
    timed(project, "destroy", "--yes", "--skip-preview", "--stack", "local")
    state = json.loads(project.run("stack", "export", "--stack", "local"))
    assert state["deployment"].get("resources") in (None, [])
    assert engine_processes(project) == []
    # `pulumi up` started this cluster (test_release.py stopped the session's first), so the
    # destroy stops it again: every kind of leftover is gone (the registry's blobs stay: a
    # cache, like podman's storage).
    assert not cluster.is_running()
    assert cluster.leftovers() == []
    # The last test of the session to use the cluster: `local_cluster` leaves it as it found it.
