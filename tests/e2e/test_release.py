"""The main job's first release on the local stack, with the real engine, cluster and node:
`pulumi up` starts the stopped cluster, pushes the image to the cluster's registry and releases
it; the pods run it on the node with the chart's hardening and answer through the Service;
`helm test` predicts from inside the cluster; a second `up` changes nothing.

The session's first e2e module (tests/conftest.py orders them): it stops the cluster the
earlier layers used, so the stack's cluster is the one Pulumi starts, and test_local_stack.py
ends with `pulumi destroy` stopping it again.
"""

from pathlib import Path

import pytest

from imagebuild.record import load_record
from ops.deploy.orchestrate import wait_until_ready
from ops.deploy.pulumi_cli import PulumiCli
from ops.localcluster import LocalCluster
from ops.localcluster.layout import REGISTRY
from tests.e2e.kube import deployment, helm, kubectl, release_pods
from tests.e2e.stack import settled_pods, timed

pytestmark = pytest.mark.e2e


def test_up_starts_the_stopped_cluster_and_runs_the_release_on_its_node(
    project: PulumiCli, local_cluster: Path, local_image_record: Path
) -> None:
    cluster = LocalCluster()
    assert cluster.processes(), "the running cluster should have processes"
    cluster.down()  # what `make cluster-down` runs
    # Every kind: processes, mounts, interfaces, iptables chains, nftables tables, cgroups
    # and state directories (the registry's blobs stay: a cache, like podman's storage).
    assert cluster.leftovers() == []
    assert not cluster.is_running()
    timed(project, "up", "--yes", "--skip-preview", "--stack", "local")
    assert cluster.is_running()
    outputs = project.outputs("local")
    assert outputs["kubeconfig"] == local_cluster.read_text()
    status = helm(local_cluster, "status", outputs["releaseName"], "-n", "image-classifier")
    assert status.returncode == 0 and "STATUS: deployed" in status.stdout
    record = load_record(local_image_record)
    released = f"{REGISTRY}/image-classifier@{record.serving('').archive_digest}"
    assert outputs["image"] == released
    live = deployment(local_cluster, outputs)
    assert live["status"].get("readyReplicas") == live["spec"]["replicas"] == 2
    running = settled_pods(local_cluster, outputs, 2)
    pods = [
        pod for pod in release_pods(local_cluster, outputs) if pod["metadata"]["name"] in running
    ]
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["nodeName"] == cluster.layout.node_name
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
