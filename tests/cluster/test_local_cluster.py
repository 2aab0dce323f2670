"""The local control plane starts, runs a Deployment on simulated nodes, and stops cleanly."""

import json
from collections.abc import Iterator

import pytest

from localcluster import LocalCluster

pytestmark = pytest.mark.cluster

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "probe", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "probe"}},
        "template": {
            "metadata": {"labels": {"app": "probe"}},
            "spec": {"containers": [{"name": "probe", "image": "localhost/probe:1"}]},
        },
    },
}


@pytest.fixture(scope="module")
def lifecycle_cluster() -> Iterator[LocalCluster]:
    """A second, short-lived cluster, so stopping it does not disturb the session's one."""
    cluster = LocalCluster(name="lifecycle-test", nodes=1)
    cluster.kubeconfig_path = cluster.kubeconfig_path.with_name("lifecycle-test.yaml")
    cluster.up()
    yield cluster
    cluster.down()


def test_nodes_are_ready(lifecycle_cluster: LocalCluster) -> None:
    nodes = json.loads(lifecycle_cluster.kubectl("get", "nodes", "-o", "json"))["items"]
    assert len(nodes) == 1
    conditions = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert conditions["Ready"] == "True"


def test_deployment_becomes_available_on_simulated_nodes(lifecycle_cluster: LocalCluster) -> None:
    manifest = lifecycle_cluster.kubeconfig_path.with_name("probe-deployment.json")
    manifest.write_text(json.dumps(DEPLOYMENT))
    lifecycle_cluster.kubectl("apply", "-f", str(manifest))
    lifecycle_cluster.kubectl(
        "rollout", "status", "deployment/probe", "-n", "default", "--timeout=120s"
    )
    status = json.loads(lifecycle_cluster.kubectl("get", "deployment", "probe", "-o", "json"))
    assert status["spec"]["template"]["spec"]["containers"][0]["image"] == "localhost/probe:1"
    assert status["status"]["availableReplicas"] == 2


def test_down_leaves_no_process(lifecycle_cluster: LocalCluster) -> None:
    assert lifecycle_cluster.processes(), "the running cluster should have processes"
    lifecycle_cluster.down()
    assert lifecycle_cluster.processes() == []
    assert not lifecycle_cluster.is_running()
