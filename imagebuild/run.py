"""Run an image under podman the way a rendered pod spec runs it in Kubernetes.

The image tests check the image this way without a cluster: same command, user, read-only
root, dropped capabilities, no-new-privileges, a tmpfs where the pod mounts an emptyDir, the
ConfigMap's environment, the files of its projected ConfigMaps and Secrets (read-only),
published on 127.0.0.1 only.
"""

import base64
import json
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from imagebuild.podman import podman

QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi)?$")
UNIT_BYTES = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


class PodSpecError(ValueError):
    """A rendered manifest that cannot be mirrored under podman; the message names the field."""


@dataclass(frozen=True)
class Probe:
    """An httpGet probe: which path on which container port."""

    kind: str
    path: str
    port: int


@dataclass(frozen=True)
class PodSettings:
    """What podman needs from a Deployment's container to run the image the same way."""

    command: tuple[str, ...]
    args: tuple[str, ...]
    env: dict[str, str]
    user: str | None
    read_only: bool
    drop_all_capabilities: bool
    no_new_privileges: bool
    tmpfs: dict[str, int | None]
    container_port: int
    probes: tuple[Probe, ...]
    # Read-only files the pod mounts from ConfigMaps and Secrets: mount path -> name -> bytes.
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def podman_args(self) -> list[str]:
        """`podman run` options for these settings (the image and its args come after)."""
        options: list[str] = []
        if self.user:
            options += ["--user", self.user]
        if self.read_only:
            # Only the pod's emptyDirs are writable, not podman's default /tmp, /run, /var/tmp.
            options += ["--read-only", "--read-only-tmpfs=false"]
        if self.drop_all_capabilities:
            options += ["--cap-drop", "ALL"]
        if self.no_new_privileges:
            options += ["--security-opt", "no-new-privileges"]
        for path, size in self.tmpfs.items():
            options += ["--tmpfs", f"{path}:rw,mode=1777" + (f",size={size}" if size else "")]
        for name, value in self.env.items():
            options += ["--env", f"{name}={value}"]
        if self.command:
            options += ["--entrypoint", json.dumps(list(self.command))]
        return options


def pod_settings(manifests: list[dict[str, Any]], container: str | None = None) -> PodSettings:
    """Read a rendered chart: its Deployment's container (the first, or the named one)."""
    pod, spec = _pod_and_container(manifests, container)
    security = {**pod.get("securityContext", {}), **spec.get("securityContext", {})}
    ports = {port.get("name"): int(port["containerPort"]) for port in spec.get("ports", [])}
    if not ports:
        raise PodSpecError(f"container {spec['name']!r} declares no containerPort")
    return PodSettings(
        command=tuple(spec.get("command", ())),
        args=tuple(spec.get("args", ())),
        env=_environment(spec, manifests),
        user=_user(security),
        read_only=bool(security.get("readOnlyRootFilesystem")),
        drop_all_capabilities="ALL" in security.get("capabilities", {}).get("drop", []),
        no_new_privileges=security.get("allowPrivilegeEscalation") is False,
        tmpfs=_tmpfs(spec, pod),
        files=_files(spec, pod, manifests),
        container_port=next(iter(ports.values())),
        probes=_probes(spec, ports),
    )


def container_image(manifests: list[dict[str, Any]], container: str | None = None) -> str:
    """The image reference the Deployment's container runs (`repository@sha256:…` when pinned)."""
    return str(_pod_and_container(manifests, container)[1]["image"])


def _pod_and_container(
    manifests: list[dict[str, Any]], container: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    deployments = [doc for doc in manifests if doc.get("kind") == "Deployment"]
    if len(deployments) != 1:
        raise PodSpecError(f"expected one Deployment in the manifests, found {len(deployments)}")
    pod = deployments[0]["spec"]["template"]["spec"]
    containers = [c for c in pod["containers"] if container in (None, c["name"])]
    if not containers:
        raise PodSpecError(f"the Deployment has no container named {container!r}")
    return pod, containers[0]


@dataclass(frozen=True)
class RunningContainer:
    """A started container and the host URL of its published port."""

    container_id: str
    url: str


def start(
    image: str, settings: PodSettings, *, name: str, host_port: int, files_dir: Path
) -> RunningContainer:
    """Start the image detached, published on 127.0.0.1:host_port (0 lets podman pick); the
    pod's mounted files are written under `files_dir` and bind-mounted read-only."""
    publish = f"127.0.0.1:{host_port or ''}:{settings.container_port}"
    mounts = _write_files(settings.files, files_dir)
    container_id = podman(
        ["run", "--detach", "--name", name, "--publish", publish, *settings.podman_args(),
         *mounts, image, *settings.args]
    ).strip()  # fmt: skip
    bound = podman(["port", container_id, f"{settings.container_port}/tcp"]).split()[0]
    return RunningContainer(container_id=container_id, url=f"http://{bound}")


def stop(name_or_id: str) -> None:
    """Stop and remove the container; a missing one is fine."""
    podman(["rm", "--force", "--ignore", "--time", "10", name_or_id])


@contextmanager
def running(
    image: str, settings: PodSettings, *, name: str, host_port: int = 0
) -> Iterator[RunningContainer]:
    """Run the container for the duration of a with-block; it is always removed after."""
    stop(name)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{name}-files-") as files_dir:
            yield start(image, settings, name=name, host_port=host_port, files_dir=Path(files_dir))
    finally:
        stop(name)


def wait_until_ready(container: RunningContainer, probe: Probe, timeout: float = 180.0) -> None:
    """Poll the probe's path like a readiness probe until it answers 2xx, or fail with logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(container.url + probe.path, timeout=2).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        state = podman(["inspect", "--format", "{{.State.Status}}", container.container_id])
        if state.strip() != "running":
            break
        time.sleep(1)
    raise TimeoutError(
        f"{container.url}{probe.path} never answered 2xx; container logs:\n{logs(container)}"
    )


def logs(container: RunningContainer, tail: int = 40) -> str:
    """The container's last `tail` lines of stdout and stderr."""
    return podman(["logs", "--tail", str(tail), container.container_id])


def _environment(spec: dict[str, Any], manifests: list[dict[str, Any]]) -> dict[str, str]:
    config_maps = {
        doc["metadata"]["name"]: doc.get("data") or {}
        for doc in manifests
        if doc.get("kind") == "ConfigMap"
    }
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        name = source.get("configMapRef", {}).get("name")
        if name is None or name not in config_maps:
            raise PodSpecError(
                f"envFrom {source}: only a ConfigMap rendered alongside is supported"
            )
        env.update({key: str(value) for key, value in config_maps[name].items()})
    for item in spec.get("env", []):
        if "value" not in item:
            raise PodSpecError(f"env {item['name']}: only literal values are supported")
        env[item["name"]] = str(item["value"])
    return env


def _user(security: dict[str, Any]) -> str | None:
    if "runAsUser" not in security:
        return None
    group = security.get("runAsGroup")
    return f"{security['runAsUser']}:{group}" if group is not None else str(security["runAsUser"])


def _tmpfs(spec: dict[str, Any], pod: dict[str, Any]) -> dict[str, int | None]:
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    mounts: dict[str, int | None] = {}
    for mount in spec.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if "projected" in volume:
            continue  # _files
        if "emptyDir" not in volume:
            raise PodSpecError(
                f"volumeMount {mount['name']} at {mount['mountPath']}: only emptyDir volumes "
                "are mirrored under podman (disable auth for a local run)"
            )
        mounts[mount["mountPath"]] = _bytes((volume["emptyDir"] or {}).get("sizeLimit"))
    return mounts


def _files(
    spec: dict[str, Any], pod: dict[str, Any], manifests: list[dict[str, Any]]
) -> dict[str, dict[str, bytes]]:
    """Projected volumes of ConfigMaps and Secrets rendered alongside, as files per mount path."""
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    objects = {
        (doc["kind"], doc["metadata"]["name"]): doc
        for doc in manifests
        if doc.get("kind") in ("ConfigMap", "Secret")
    }
    mounts: dict[str, dict[str, bytes]] = {}
    for mount in spec.get("volumeMounts", []):
        projected = volumes.get(mount["name"], {}).get("projected")
        if projected is None:
            continue
        files: dict[str, bytes] = {}
        for source in projected["sources"]:
            kind = "ConfigMap" if "configMap" in source else "Secret"
            reference = source["configMap" if kind == "ConfigMap" else "secret"]
            document = objects.get((kind, reference["name"]))
            if document is None:
                raise PodSpecError(
                    f"volume {mount['name']}: {kind} {reference['name']} is not rendered "
                    "alongside (an existing Secret cannot be mirrored under podman)"
                )
            data = document.get("data") or {}
            for item in reference["items"]:
                value = data[item["key"]]
                files[item["path"]] = (
                    base64.b64decode(value) if kind == "Secret" else str(value).encode()
                )
        mounts[mount["mountPath"]] = files
    return mounts


def _write_files(mounts: dict[str, dict[str, bytes]], directory: Path) -> list[str]:
    """Write each mount's files into its own directory; the `--volume` options mounting them."""
    options: list[str] = []
    for index, (path, files) in enumerate(sorted(mounts.items())):
        source = directory / str(index)
        source.mkdir()
        for name, content in files.items():
            (source / name).write_bytes(content)
            (source / name).chmod(0o444)  # readable by the image's user, as defaultMode allows
        source.chmod(0o755)
        options += ["--volume", f"{source}:{path}:ro"]
    return options


def _bytes(quantity: str | int | None) -> int | None:
    if quantity is None:
        return None
    match = QUANTITY.match(str(quantity))
    if match is None:
        raise PodSpecError(f"emptyDir sizeLimit {quantity!r}: expected a number with Ki, Mi or Gi")
    return int(match.group(1)) * UNIT_BYTES[match.group(2)]


def _probes(spec: dict[str, Any], ports: dict[str | None, int]) -> tuple[Probe, ...]:
    probes = []
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = spec.get(kind, {}).get("httpGet")
        if http is None:
            continue
        port = http["port"]
        probes.append(
            Probe(
                kind=kind,
                path=http["path"],
                port=ports[port] if isinstance(port, str) else int(port),
            )
        )
    return tuple(probes)
