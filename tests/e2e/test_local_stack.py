"""The main job on the local stack, with the real engine, cluster and node: `pulumi up` pushes
the image to the cluster's registry and releases it; the pods run it on the node and answer
through the Service; a new model version rolls out under load, a pod dies under load, and
neither loses a request; the policy pack runs; `pulumi destroy` leaves nothing.

The tests run in file order against the local stack of the session's `project`; they end
with it destroyed and the cluster stopped, so they come last.
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
from tests.e2e.kube import deployment, helm, kubectl, release_pods
from tests.e2e.load import assert_no_request_lost, digit_load

pytestmark = pytest.mark.e2e

POLICY_PACK = str(PACK_DIR)
PLUGINS = ("pulumi-language-python", "pulumi-resource-kubernetes", "pulumi-resource-pulumi-python")


def timed(cli: PulumiCli, *args: str) -> tuple[str, float]:
    started = time.monotonic()
    output = cli.run(*args)
    elapsed = time.monotonic() - started
    print(f"pulumi {' '.join(args[:3])}: {elapsed:.1f}s")
    return output, elapsed


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


def settled_pods(kubeconfig: Path, outputs: dict, count: int, timeout: float = 120) -> list[str]:
    """The release's pods once exactly `count` run and none is terminating (a rollout's old
    pods linger through their grace period)."""
    deadline = time.monotonic() + timeout
    while True:
        pods = release_pods(kubeconfig, outputs)
        running = [
            pod["metadata"]["name"]
            for pod in pods
            if "deletionTimestamp" not in pod["metadata"]
            and pod["status"].get("phase") == "Running"
        ]
        if len(pods) == len(running) == count:
            return running
        assert time.monotonic() < deadline, (
            f"pods not settled: {[p['metadata']['name'] for p in pods]}"
        )
        time.sleep(1)


def test_up_runs_the_release_on_the_real_node(
    project: PulumiCli, local_cluster: Path, local_image_record: Path
) -> None:
    timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
    outputs = project.outputs("local")
    status = helm(local_cluster, "status", outputs["releaseName"], "-n", "image-classifier")
    assert status.returncode == 0 and "STATUS: deployed" in status.stdout
    record = load_record(local_image_record)
    released = f"{REGISTRY}/image-classifier@{record.image.archive_digest}"
    assert outputs["image"] == released
    live = deployment(local_cluster, outputs)
    assert live["status"].get("readyReplicas") == live["spec"]["replicas"] == 2
    # Settled: the session's earlier modules may have left a rollout's old pods terminating.
    running = settled_pods(local_cluster, outputs, 2)
    pods = [
        pod for pod in release_pods(local_cluster, outputs) if pod["metadata"]["name"] in running
    ]
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["nodeName"] == LocalCluster().layout.node_name
        assert pod["spec"]["containers"][0]["image"] == released
        (container,) = pod["status"]["containerStatuses"]
        assert container["ready"] and "running" in container["state"]
        assert container["imageID"] == released
    wait_until_ready(outputs["localUrl"])
    assert outputs["localUrl"] == "http://127.0.0.1:8080"


def test_the_running_container_has_the_charts_hardening(
    project: PulumiCli, local_cluster: Path
) -> None:
    outputs = project.outputs("local")
    pod = release_pods(local_cluster, outputs)[0]["metadata"]["name"]
    probe = (
        "import os\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "try:\n    open('/app/probe', 'w')\n    root = 'writable'\n"
        "except OSError as e:\n    root = e.strerror\n"
        "print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['CapBnd'].strip(),"
        " status['Seccomp'].strip(), status['NoNewPrivs'].strip(), root, sep='|')\n"
    )
    said = kubectl(
        local_cluster, "exec", "-n", outputs["releaseNamespace"], pod, "--",
        "python3", "-c", probe,
    )  # fmt: skip
    uid, gid, effective, bounding, seccomp, no_new_privileges, root = said.strip().split("|")
    assert (uid, gid) == ("10001", "10001")
    assert int(effective, 16) == 0 and int(bounding, 16) == 0  # every capability dropped
    assert seccomp == "2"  # a seccomp filter (RuntimeDefault) is in force
    assert no_new_privileges == "1"
    assert root == "Read-only file system"


def test_helm_test_predicts_through_the_service_dns_name(
    project: PulumiCli, local_cluster: Path
) -> None:
    outputs = project.outputs("local")
    result = helm(
        local_cluster, "test", outputs["releaseName"], "-n", outputs["releaseNamespace"],
        "--logs", "--timeout", "180s",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Phase:          Succeeded" in result.stdout
    assert "smoke test passed" in result.stdout


def test_second_up_changes_nothing(project: PulumiCli) -> None:
    output, _ = timed(project, "up", "--yes", "--expect-no-changes", "--stack", "local")
    assert "unchanged" in output


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
    assert outputs["image"].endswith(new.image.archive_digest)


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
    assert outputs["image"] == f"{REGISTRY}/image-classifier@{record.image.archive_digest}"
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
    assert cluster.processes(), "the running cluster should have processes"
    cluster.down()  # what `make cluster-down` runs
    try:
        # Every kind: processes, mounts, interfaces, iptables chains, nftables tables, cgroups
        # and state directories (the registry's blobs stay: a cache, like podman's storage).
        assert cluster.leftovers() == []
        assert not cluster.is_running()
        timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
        assert cluster.is_running()
        outputs = project.outputs("local")
        assert outputs["kubeconfig"] == local_cluster.read_text()
        live = deployment(local_cluster, outputs)
        assert live["status"].get("readyReplicas") == live["spec"]["replicas"]
        wait_until_ready(outputs["localUrl"])
        # Pulumi started this cluster, so destroying the stack stops it again.
        timed(project, "destroy", "--yes", "--skip-preview", "--stack", "local")
        assert not cluster.is_running() and cluster.leftovers() == []
    except BaseException:
        cluster.up()  # for the project's teardown, which destroys what is left
        raise
    # The last test of the session to use the cluster: `local_cluster` leaves it as it found it.
