"""The chart against the local cluster (Kubernetes 1.36, one real node): strict server-side
validation of every rendered object, and a real release's install, `helm test`, upgrade,
rollback and uninstall, its pods running the images pulled from the cluster's registry.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imagebuild.record import ImageInfo
from infra.values import model_keys_values
from modelartifact.encryption import encode_data_key
from modelartifact.keystore import KeyStore
from tests.chart.conftest import VALUES_SOURCES
from tests.chart.helm import (
    CHART_DIR,
    HELM_BINARIES,
    HelmError,
    environment_values,
    helm,
    template,
    write_values,
)
from tests.chart.kubectl import get, kubectl, names

pytestmark = pytest.mark.chart

WAIT = "180s"
RELEASE_OBJECTS = "deployment,service,configmap,serviceaccount,networkpolicy,poddisruptionbudget"


@pytest.fixture
def namespace(local_cluster: Path) -> Iterator[str]:
    """A fresh namespace (the cluster may be shared), deleted afterwards."""
    name = f"chart-{uuid.uuid4().hex[:8]}"
    kubectl(local_cluster, "create", "namespace", name)
    # The controller-manager creates the default ServiceAccount a moment later; pods (the
    # chart's `helm test` hook) are refused until it exists.
    kubectl(
        local_cluster,
        "wait",
        "--for=create",
        "serviceaccount/default",
        "-n",
        name,
        "--timeout=60s",
    )
    yield name
    kubectl(local_cluster, "delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize("source", VALUES_SOURCES)
def test_rendered_objects_pass_strict_server_side_validation(
    source: str, values_files: dict[str, Path], local_cluster: Path, namespace: str
) -> None:
    rendered = template([values_files[source]], "--namespace", namespace)
    output = kubectl(
        local_cluster, "apply", "--dry-run=server", "--validate=strict", "-n", namespace,
        "-f", "-", stdin=rendered,
    )  # fmt: skip
    assert "deployment.apps/image-classifier created (server dry run)" in output
    assert "service/image-classifier created (server dry run)" in output


@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize("source", VALUES_SOURCES)
def test_install_dry_run_server(
    binary: str, source: str, values_files: dict[str, Path], local_cluster: Path, namespace: str
) -> None:
    output = helm(
        "install", "image-classifier", str(CHART_DIR), "-f", str(values_files[source]),
        "--namespace", namespace, "--dry-run=server",
        binary=binary, kubeconfig=local_cluster,
    )  # fmt: skip
    assert "kind: Deployment" in output
    assert names(local_cluster, namespace, "deployment", "app.kubernetes.io/instance") == []


@pytest.mark.parametrize("binary", HELM_BINARIES)
def test_install_with_a_typo_fails_naming_the_key(
    binary: str, local_cluster: Path, namespace: str
) -> None:
    with pytest.raises(HelmError, match="additional properties 'replicaCont' not allowed"):
        helm(
            "install", "image-classifier", str(CHART_DIR), "--namespace", namespace,
            "--set", "replicaCont=2", binary=binary, kubeconfig=local_cluster,
        )  # fmt: skip
    assert "image-classifier" not in helm("list", "-n", namespace, "-q", kubeconfig=local_cluster)


@dataclass(frozen=True)
class Release:
    """One helm release of chart/ in a namespace, read back through kubectl."""

    binary: str
    kubeconfig: Path
    namespace: str
    values: Path
    name: str = "image-classifier"

    def helm(self, *args: str) -> str:
        return helm(
            *args, "--namespace", self.namespace, binary=self.binary, kubeconfig=self.kubeconfig
        )

    def deploy(self, command: str, *settings: str) -> None:
        chart = [self.name, str(CHART_DIR), "-f", str(self.values)]
        self.helm(command, *chart, *settings, "--wait", "--timeout", WAIT)

    def get(self, kind: str, name: str = "image-classifier") -> dict[str, Any]:
        return get(self.kubeconfig, self.namespace, kind, name)

    def objects(self, kinds: str = RELEASE_OBJECTS) -> list[str]:
        return names(
            self.kubeconfig, self.namespace, kinds, f"app.kubernetes.io/instance={self.name}"
        )

    def wait_for_ready_replicas(self, count: int) -> None:
        kubectl(
            self.kubeconfig, "wait", "-n", self.namespace, "deployment/image-classifier",
            f"--for=jsonpath={{.status.readyReplicas}}={count}", f"--timeout={WAIT}",
        )  # fmt: skip


@pytest.mark.parametrize("binary", HELM_BINARIES)
def test_release_lifecycle(
    binary: str,
    local_cluster: Path,
    namespace: str,
    registry_images: tuple[ImageInfo, ImageInfo],
    tmp_path: Path,
) -> None:
    tensorflow, slim = registry_images
    values = environment_values("local")
    values["image"] |= {"repository": tensorflow.repository, "digest": tensorflow.digest}
    values["model"]["version"] = tensorflow.model_version
    data_key = encode_data_key(KeyStore.of("local").data_key())
    values["modelKeys"] = model_keys_values(tensorflow, data_key)
    # The local stack's own release may hold NodePort 8080; this one stays in the cluster.
    values["service"] |= {"type": "ClusterIP", "nodePort": None}
    release = Release(binary, local_cluster, namespace, write_values(values, tmp_path))

    # Revision 1: the local environment as Pulumi releases it, serving for real.
    release.deploy("install")
    deployment = release.get("deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["status"]["readyReplicas"] == 2
    assert pod["containers"][0]["image"] == f"{tensorflow.repository}@{tensorflow.digest}"
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["containers"][0]["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert release.get("configmap")["data"]["MODEL_VERSION"] == str(tensorflow.model_version)
    service = release.get("service")["spec"]
    assert (service["type"], service["ports"][0]["port"], service["ports"][0]["targetPort"]) == (
        "ClusterIP", 80, "http",
    )  # fmt: skip
    assert "smoke test passed" in release.helm("test", release.name, "--logs", "--timeout", WAIT)

    # Revision 2: autoscaled from 3, and the slim (LiteRT) image of the same model.
    release.deploy(
        "upgrade", "--set", "autoscaling.enabled=true",
        "--set", f"image.digest={slim.digest}",
    )  # fmt: skip
    hpa = release.get("horizontalpodautoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    release.wait_for_ready_replicas(3)  # the real HPA controller enforces minReplicas
    assert release.get("poddisruptionbudget")["spec"]["minAvailable"] == 1
    image = release.get("deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(f"@{slim.digest}")
    assert "smoke test passed" in release.helm("test", release.name, "--logs", "--timeout", WAIT)

    # Revision 3: back to revision 1.
    release.helm("rollback", release.name, "1", "--wait", "--timeout", WAIT)
    release.wait_for_ready_replicas(2)
    deployment = release.get("deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        tensorflow.digest
    )
    assert release.objects("horizontalpodautoscaler") == []
    history = json.loads(release.helm("history", release.name, "-o", "json"))
    assert [(entry["revision"], entry["status"]) for entry in history] == [
        (1, "superseded"), (2, "superseded"), (3, "deployed"),
    ]  # fmt: skip
    assert history[-1]["description"] == "Rollback to 1"

    release.helm("uninstall", release.name, "--wait", "--timeout", WAIT)
    assert release.objects() == []
