"""The image under podman exactly as the chart's Deployment runs it, without a cluster.

The values are the ones the Pulumi program releases for the local environment
(infra.values.release_values): the image pinned by the record's digest and the model version.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import testinfra
from testinfra.host import Host

from envconfig import load_environment
from imagebuild import run
from imagebuild.record import ImageRecord
from infra.release import release_values
from modelartifact.encryption import encode_data_key
from modelartifact.keystore import KeyStore
from tests.chart.helm import manifests, one, template, write_values
from tests.image.client import top_label
from tests.image.conftest import Digits

pytestmark = pytest.mark.image

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


@dataclass(frozen=True)
class RenderedPod:
    """The chart rendered for the local environment, and the pod settings read from it."""

    docs: list[dict[str, Any]]
    image: str
    settings: run.PodSettings


@pytest.fixture(scope="session")
def rendered(
    image_record: ImageRecord, variant: str, tmp_path_factory: pytest.TempPathFactory
) -> RenderedPod:
    """`helm template` with the values Pulumi releases; the slim variant selects LiteRT."""
    released = image_record.image if variant == "image" else image_record.slim
    data_key = encode_data_key(KeyStore.of("local").data_key())
    values = release_values(load_environment("local").chart, released, None, data_key)
    if variant == "slim":
        values["model"] = {**values["model"], "backend": "litert"}
    docs = manifests(template([write_values(values, tmp_path_factory.mktemp("values"))]))
    return RenderedPod(docs=docs, image=run.container_image(docs), settings=run.pod_settings(docs))


@pytest.fixture(scope="session")
def pod(rendered: RenderedPod, variant: str) -> Iterator[run.RunningContainer]:
    """The rendered image reference (repository@digest) run with the rendered settings."""
    name = f"test-pod-{variant}-{os.getpid()}"
    with run.running(rendered.image, rendered.settings, name=name) as container:
        ready = next(p for p in rendered.settings.probes if p.kind == "readinessProbe")
        run.wait_until_ready(container, ready)
        yield container


@pytest.fixture(scope="session")
def pod_host(pod: run.RunningContainer) -> Host:
    """testinfra inside the pod's container."""
    return testinfra.get_host("podman://" + pod.container_id)


def test_pod_spec_is_mirrored(rendered: RenderedPod) -> None:
    settings = rendered.settings
    assert rendered.image.startswith("localhost/image-classifier@sha256:")
    assert settings.user == "10001:10001"
    assert settings.read_only and settings.drop_all_capabilities and settings.no_new_privileges
    assert list(settings.tmpfs) == ["/tmp"]
    assert settings.command == ("gunicorn", "--config", "service/gunicorn.conf.py")


@pytest.mark.parametrize("kind", PROBES)
def test_every_probe_answers_as_the_kubelet_expects(
    rendered: RenderedPod, pod: run.RunningContainer, kind: str
) -> None:
    [probe] = [p for p in rendered.settings.probes if p.kind == kind]
    assert probe.port == rendered.settings.container_port
    answer = requests.get(pod.url + probe.path, timeout=5)
    assert 200 <= answer.status_code < 400, f"{answer.status_code} {answer.text}"


def test_process_has_the_pods_user_and_no_privileges(pod_host: Host) -> None:
    status = dict(
        line.split(":", 1) for line in pod_host.file("/proc/1/status").content_string.splitlines()
    )
    assert status["Uid"].split()[:2] == ["10001", "10001"]
    assert status["Gid"].split()[:2] == ["10001", "10001"]
    assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"


def test_environment_is_the_rendered_configmap(rendered: RenderedPod, pod_host: Host) -> None:
    environ = pod_host.run("cat /proc/1/environ").stdout.split("\0")
    values = dict(item.split("=", 1) for item in environ if "=" in item)
    container = one(rendered.docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    [source] = container["envFrom"]
    config_map = one(rendered.docs, "ConfigMap", source["configMapRef"]["name"])["data"]
    assert {key: values.get(key) for key in config_map} == config_map


def test_only_the_emptydir_is_writable(pod_host: Host) -> None:
    assert pod_host.mount_point("/tmp").filesystem == "tmpfs"
    assert "Read-only file system" in pod_host.run("touch /app/probe").stderr
    assert pod_host.run("touch /tmp/probe && rm /tmp/probe").rc == 0


def test_a_digit_gets_its_class(pod: run.RunningContainer, digits: Digits) -> None:
    seven = next(picture for picture, label in digits.test if label == "7")
    assert top_label(pod.url, seven) == "7"


def test_local_model_version_is_served(pod: run.RunningContainer, local_model: Path) -> None:
    answer = requests.get(f"{pod.url}/v2/models/image-classifier", timeout=5).json()
    assert local_model.name in answer.get("versions", [])
