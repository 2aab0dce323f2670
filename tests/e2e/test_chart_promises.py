"""What the chart promises, shown on the real node: the HPA scales out under load and back in,
a drain is refused while it would break the PodDisruptionBudget, and a rolling restart under
load loses no request.

The local stack of a temporary project (module-scoped `project`) is released once; each test
changes one setting with `pulumi config set` and `pulumi up`, as a user would.
"""

import subprocess
import time
from pathlib import Path

import pytest

from deploy.pulumi_cli import PulumiCli
from localcluster import LocalCluster
from localcluster.processes import wait_for
from tests.e2e.kube import deployment, kubectl, kubectl_command, release_pods
from tests.e2e.load import assert_no_request_lost, digit_load
from tests.e2e.measurements import record_measurement

pytestmark = pytest.mark.e2e


def up(project: PulumiCli) -> dict:
    project.run("up", "--yes", "--skip-preview", "--stack", "local")
    return project.outputs("local")


def ready_replicas(kubeconfig: Path, outputs: dict) -> int:
    return int(deployment(kubeconfig, outputs)["status"].get("readyReplicas") or 0)


def wait_for_replicas(kubeconfig: Path, outputs: dict, count: int, timeout: float) -> float:
    """Seconds until the Deployment wants and has `count` ready pods; fails after `timeout`."""
    started = time.monotonic()

    def settled() -> bool:
        live = deployment(kubeconfig, outputs)
        return live["spec"]["replicas"] == count == int(live["status"].get("readyReplicas") or 0)

    assert wait_for(settled, timeout, interval=2), f"not {count} ready replicas in {timeout}s"
    return time.monotonic() - started


@pytest.fixture(scope="module")
def released(project: PulumiCli, local_cluster: Path) -> dict:
    return up(project)


def test_kubectl_top_reads_the_pods_resource_metrics(released: dict, local_cluster: Path) -> None:
    namespace = released["releaseNamespace"]

    def metrics_served() -> bool:
        result = subprocess.run(
            [*kubectl_command(local_cluster), "top", "pods", "-n", namespace, "--no-headers"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return result.returncode == 0 and len(result.stdout.splitlines()) == 2

    assert wait_for(metrics_served, timeout=120, interval=5)


def test_the_hpa_scales_out_under_load_and_back_in(
    project: PulumiCli, released: dict, local_cluster: Path
) -> None:
    settings = {
        "enabled": "true",
        "minReplicas": "1",
        "maxReplicas": "3",
        "targetCPUUtilizationPercentage": "50",
        "scaleDownStabilizationSeconds": "20",
    }
    for key, value in settings.items():
        project.run("config", "set", "--path", f"chart.autoscaling.{key}", value, "-s", "local")
    outputs = up(project)
    wait_for_replicas(local_cluster, outputs, 1, timeout=120)
    with digit_load() as load:
        scale_out = wait_for_replicas(local_cluster, outputs, 3, timeout=300)
    assert_no_request_lost(load.report)
    with digit_load(rate=5.0, threads=1) as trickle:
        scale_in = wait_for_replicas(local_cluster, outputs, 1, timeout=300)
    assert trickle.report.failed == 0, dict(trickle.report.failures)
    record_measurement("hpa_scale_out_1_to_3_seconds", round(scale_out, 1))
    record_measurement("hpa_scale_in_3_to_1_seconds", round(scale_in, 1))
    project.run("config", "rm", "--path", "chart.autoscaling", "-s", "local")
    outputs = up(project)
    wait_for_replicas(local_cluster, outputs, 2, timeout=180)


def test_a_drain_is_refused_while_it_would_break_the_disruption_budget(
    released: dict, local_cluster: Path
) -> None:
    node = LocalCluster().layout.node_name
    selector = (
        f"app.kubernetes.io/instance={released['releaseName']},app.kubernetes.io/component!=test"
    )
    assert ready_replicas(local_cluster, released) == 2
    drain = subprocess.run(
        [*kubectl_command(local_cluster), "drain", node, "--pod-selector", selector,
         "--delete-emptydir-data", "--timeout=40s"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        assert drain.returncode != 0
        assert "disruption budget" in drain.stdout + drain.stderr
        # One pod went (the budget allows it); the other is still serving.
        running = [
            pod for pod in release_pods(local_cluster, released)
            if pod["status"]["phase"] == "Running" and not pod["metadata"].get("deletionTimestamp")
        ]  # fmt: skip
        assert len(running) == 1
    finally:
        kubectl(local_cluster, "uncordon", node)
    wait_for_replicas(local_cluster, released, 2, timeout=180)


def test_a_rolling_restart_under_load_loses_no_request(released: dict, local_cluster: Path) -> None:
    name, namespace = released["releaseName"], released["releaseNamespace"]
    before = {pod["metadata"]["name"] for pod in release_pods(local_cluster, released)}
    with digit_load() as load:
        time.sleep(2)
        kubectl(local_cluster, "rollout", "restart", f"deployment/{name}", "-n", namespace)
        kubectl(
            local_cluster, "rollout", "status", f"deployment/{name}", "-n", namespace,
            "--timeout=180s",
        )  # fmt: skip
        time.sleep(2)
    assert_no_request_lost(load.report)
    after = {pod["metadata"]["name"] for pod in release_pods(local_cluster, released)}
    assert not before & after
