"""Run the released image under podman the way the local release's pod spec runs it.

kwok's nodes are simulated, so this container is where local predictions are really served.
"""

import subprocess

import yaml

from imagebuild.run import RunningContainer, pod_settings, start, stop, wait_until_ready
from localcluster import LocalCluster
from toolchain.paths import bin_dir

CONTAINER_NAME = "image-classifier-local"
HOST_PORT = 8080


def rendered_manifests(release: str, namespace: str) -> list[dict]:
    """The manifests Helm applied for the release (`helm get manifest`)."""
    result = subprocess.run(
        [str(bin_dir() / "helm"), "get", "manifest", release, "--namespace", namespace,
         "--kubeconfig", str(LocalCluster().kubeconfig_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def start_local_service(image: str, release: str, namespace: str) -> RunningContainer:
    """(Re)start the container on 127.0.0.1:8080 and wait until its readiness probe passes."""
    settings = pod_settings(rendered_manifests(release, namespace))
    stop(CONTAINER_NAME)
    container = start(image, settings, name=CONTAINER_NAME, host_port=HOST_PORT)
    readiness = next((p for p in settings.probes if p.kind == "readinessProbe"), settings.probes[0])
    wait_until_ready(container, readiness)
    return container


def stop_local_service() -> None:
    """Remove the container; a missing one is fine."""
    stop(CONTAINER_NAME)
