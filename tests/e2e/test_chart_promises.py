"""What the chart promises, shown on the real node: the HPA scales out under load and back in,
a drain is refused while it would break the PodDisruptionBudget, a rolling restart under load
loses no request, the NetworkPolicy admits only its sources and no egress, and a canary of a
new model version gets its share of requests, then is promoted and rolled back.

The local stack of the session's temporary project (`project`) is released once (by
test_release.py, which runs first); each test changes one setting with `pulumi config set` and
`pulumi up`, as a user would, and puts it back.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from imagebuild.record import load_record
from ops.deploy.pulumi_cli import PulumiCli
from ops.localcluster import LocalCluster
from ops.localcluster.processes import wait_for
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
    """The local stack as test_release.py released it (released here if this module runs
    alone: a stack never updated has no outputs)."""
    return project.outputs("local") or up(project)


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
    # The local pods request 100m CPU: 3 -> 1 needs the pods' mean usage below a third of the
    # target (27m at 80 %, 17m at 50 %) while a trickle checks that scale-in loses nothing.
    settings = {
        "enabled": "true",
        "minReplicas": "1",
        "maxReplicas": "3",
        "targetCPUUtilizationPercentage": "80",
        "scaleDownStabilizationSeconds": "10",
    }
    for key, value in settings.items():
        project.run("config", "set", "--path", f"chart.autoscaling.{key}", value, "-s", "local")
    try:
        outputs = up(project)
        wait_for_replicas(local_cluster, outputs, 1, timeout=120)
        with digit_load() as load:
            scale_out = wait_for_replicas(local_cluster, outputs, 3, timeout=300)
        assert_no_request_lost(load.report)
        with digit_load(rate=2.0, threads=1) as trickle:
            scale_in = wait_for_replicas(local_cluster, outputs, 1, timeout=300)
        assert trickle.report.sent >= 10
        assert trickle.report.failed == 0, dict(trickle.report.failures)
        record_measurement("hpa_scale_out_1_to_3_seconds", round(scale_out, 1))
        record_measurement("hpa_scale_in_3_to_1_seconds", round(scale_in, 1))
    finally:
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
         "--delete-emptydir-data", "--timeout=5s"],  # refused at once; kubectl retries till then
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
    serving = [
        pod for pod in release_pods(local_cluster, released)
        if not pod["metadata"].get("deletionTimestamp")
    ]  # fmt: skip
    assert not before & {pod["metadata"]["name"] for pod in serving}


def client_pod(name: str, image: str, labels: dict[str, str]) -> dict:
    """A pod of the service's image that serves plain HTTP on 8000 (no policy selects it)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "client",
                    "image": image,
                    "command": ["python3", "-m", "http.server", "8000", "--directory", "/tmp"],
                }
            ],
        },
    }


def reaches(kubeconfig: Path, namespace: str, pod: str, url: str) -> bool:
    """Whether `pod` gets an HTTP answer from `url` within 3 seconds."""
    probe = (
        "import sys, urllib.request\n"
        "try:\n"
        f"    urllib.request.urlopen({url!r}, timeout=3)\n"
        "except Exception as error:\n"
        "    sys.exit(f'{type(error).__name__}: {error}')\n"
    )
    result = subprocess.run(
        [*kubectl_command(kubeconfig), "exec", "-n", namespace, pod, "--",
         "python3", "-c", probe],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.returncode == 0


def test_network_policy_admits_only_the_listed_sources_and_no_egress(
    project: PulumiCli, released: dict, local_cluster: Path
) -> None:
    allowed = "chart.networkPolicy.from[0].podSelector.matchLabels.client"
    project.run("config", "set", "--path", allowed, "allowed", "-s", "local")
    outputs = up(project)
    namespace, image = outputs["releaseNamespace"], outputs["image"]
    pods = {
        "allowed-client": {"client": "allowed"},
        "other-client": {"client": "other"},
    }
    for name, labels in pods.items():
        manifest = json.dumps(client_pod(name, image, labels))
        kubectl(local_cluster, "apply", "-n", namespace, "-f", "-", stdin=manifest)
    kubectl(
        local_cluster, "wait", "--for=condition=Ready", "pod/allowed-client", "pod/other-client",
        "-n", namespace, "--timeout=120s",
    )  # fmt: skip
    try:
        service = f"http://{outputs['releaseName']}.{namespace}.svc.cluster.local/v2/health/ready"
        assert reaches(local_cluster, namespace, "allowed-client", service)
        assert not reaches(local_cluster, namespace, "other-client", service)
        # The kubelet's probes still get through: the pods stay Ready.
        assert ready_replicas(local_cluster, outputs) == 2
        # Egress: the release's pods open no connection; the client pods can reach each other.
        client_ip = json.loads(
            kubectl(local_cluster, "get", "pod", "allowed-client", "-n", namespace, "-o", "json")
        )["status"]["podIP"]
        server = release_pods(local_cluster, outputs)[0]["metadata"]["name"]
        assert reaches(local_cluster, namespace, "other-client", f"http://{client_ip}:8000/")
        assert not reaches(local_cluster, namespace, server, f"http://{client_ip}:8000/")
    finally:
        kubectl(local_cluster, "delete", "pod", *pods, "-n", namespace, "--wait=false")
        project.run("config", "rm", "--path", "chart.networkPolicy", "-s", "local")
        up(project)


def test_a_canary_gets_its_share_then_is_promoted_and_rolled_back(
    project: PulumiCli, released: dict, local_cluster: Path, next_model_record: Path
) -> None:
    stable_version = str(released["modelVersion"])
    canary_version = str(load_record(next_model_record).image.model_version)
    try:
        for key, value in (("imageRecord", str(next_model_record)), ("replicas", "1")):
            project.run("config", "set", "--path", f"canary.{key}", value, "-s", "local")
        outputs = up(project)
        assert str(outputs["canaryModelVersion"]) == canary_version
        name, namespace = outputs["releaseName"], outputs["releaseNamespace"]
        kubectl(
            local_cluster, "rollout", "status", f"deployment/{name}-canary", "-n", namespace,
            "--timeout=180s",
        )  # fmt: skip
        with digit_load(rate=60.0) as load:
            time.sleep(12)
        assert_no_request_lost(load.report)
        share = load.report.versions[canary_version] / load.report.sent
        # One canary pod beside two stable ones: a third of the requests, within 0.1 (over 5
        # standard deviations of the share of ~700 requests each balanced to a random pod).
        assert set(load.report.versions) == {stable_version, canary_version}
        assert abs(share - 1 / 3) <= 0.1, f"canary share {share:.3f}"
        record_measurement("canary_share_configured", round(1 / 3, 3))
        record_measurement("canary_share_observed", round(share, 3))

        # Promote: one config change; the stable pods roll to the canary's model, the canary goes.
        with digit_load() as load:
            project.run("config", "set", "--path", "canary.promote", "true", "-s", "local")
            outputs = up(project)
            time.sleep(3)
        assert_no_request_lost(load.report)
        assert str(outputs["modelVersion"]) == canary_version
        assert load.report.timeline[-1][1] == canary_version
        assert release_objects(local_cluster, namespace, f"{name}-canary") == []

        # Roll back: one config change; the canary section goes, the stable model comes back.
        with digit_load() as load:
            project.run("config", "rm", "canary", "-s", "local")
            outputs = up(project)
            time.sleep(3)
        assert_no_request_lost(load.report)
        assert str(outputs["modelVersion"]) == stable_version
        assert load.report.timeline[-1][1] == stable_version
    except BaseException:
        # Leave the stack as the later tests expect it: no canary, the stable model.
        project.run("config", "rm", "canary", "-s", "local")
        up(project)
        raise


def release_objects(kubeconfig: Path, namespace: str, name: str) -> list[str]:
    listing = kubectl(kubeconfig, "get", "deployments", "-n", namespace, "-o", "name")
    return [line for line in listing.split() if line == f"deployment.apps/{name}"]
