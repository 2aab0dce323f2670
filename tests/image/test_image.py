"""The built images, run as they are: user, files, no build tools, read-only root, serving."""

import dataclasses
import json
import os
import time
import zlib
from pathlib import Path

import pytest
import requests
from testinfra.host import Host

from imagebuild import run
from imagebuild.podman import podman
from imagebuild.record import ImageInfo, ImageRecord
from modelartifact import METADATA_FILE, SIGNATURE_FILE, encryption, sha256_file
from tests.image.client import accuracy, listening_ports, top_label
from tests.image.conftest import Digits, as_built

pytestmark = pytest.mark.image

# Build tools and package managers: the runtime stage keeps none.
BUILD_TOOLS = (
    "gcc", "cc", "c++", "g++", "ld", "make", "pip", "pip3",
    "apt", "apt-get", "dpkg", "dpkg-deb", "perl",
)  # fmt: skip


def test_runs_as_the_non_root_user_10001(host: Host) -> None:
    user = host.user()
    assert (user.uid, user.gid) == (10001, 10001)


def test_model_files_are_ciphertext_beside_the_signed_metadata(
    host: Host, local_model: Path
) -> None:
    metadata = json.loads((local_model / "metadata.json").read_text())
    baked = f"/models/image-classifier/{local_model.name}"
    found = {name: host.file(f"{baked}/{name}").sha256sum for name in metadata["files"]}
    assert set(found) == set(metadata["files"])
    assert [name for name, sha256 in found.items() if sha256 == metadata["files"][name]] == []
    for name in (METADATA_FILE, SIGNATURE_FILE):
        assert host.file(f"{baked}/{name}").sha256sum == sha256_file(local_model / name)


def test_a_mounted_image_shows_no_readable_weights(
    image_record: ImageRecord, local_model: Path
) -> None:
    """`podman image mount`: no file of the model is its plaintext, none parses as a SavedModel
    or compresses like one, and each one is in the encrypted form."""
    image = image_record.slim
    root = Path(podman(["image", "mount", image.image_id]).strip())
    try:
        baked = root / "models" / "image-classifier" / str(image.model_version)
        metadata = json.loads((baked / METADATA_FILE).read_text())
        for name in metadata["files"]:
            blob = (baked / name).read_bytes()
            assert blob.startswith(encryption.MAGIC), name
            assert blob != (local_model / name).read_bytes(), name
        plain = (local_model / "saved_model.pb").read_bytes()
        sealed = (baked / "saved_model.pb").read_bytes()
        # A protobuf compresses; AES-GCM output does not (it looks random).
        assert len(zlib.compress(plain)) < 0.5 * len(plain)
        assert len(zlib.compress(sealed)) > 0.99 * len(sealed)
        assert b"serving_default" in plain and b"serving_default" not in sealed
    finally:
        podman(["image", "unmount", image.image_id])


@pytest.mark.parametrize("tool", BUILD_TOOLS)
def test_has_no_build_tool(host: Host, tool: str) -> None:
    assert not host.exists(tool)


def test_python_has_no_pip_module(host: Host) -> None:
    for module in ("pip", "ensurepip"):
        assert host.run(f"python3 -m {module} --version").rc != 0


def test_gunicorn_config_is_in_the_workdir(host: Host) -> None:
    assert host.file("/app/service/gunicorn.conf.py").is_file


def test_app_holds_only_the_service_and_the_artifact_definition(host: Host) -> None:
    assert sorted(host.file("/app").listdir()) == ["modelartifact", "service"]


def test_root_filesystem_is_read_only_and_tmp_writable(host: Host) -> None:
    assert "Read-only file system" in host.run("touch /app/probe").stderr
    assert host.run("touch /tmp/probe && rm /tmp/probe").rc == 0


def test_serves_http_on_8080(host: Host) -> None:
    assert 8080 in listening_ports(host)


def test_ready_probe_answers_200(served: run.RunningContainer) -> None:
    assert requests.get(f"{served.url}/v2/health/ready", timeout=5).status_code == 200


def test_labels_name_model_version_and_revision(
    image: ImageInfo, image_record: ImageRecord, local_model: Path
) -> None:
    config = json.loads(podman(["image", "inspect", image.image_id]))[0]["Config"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == local_model.name
    assert labels["org.opencontainers.image.revision"] == image_record.revision
    assert config["User"] == "10001:10001"
    assert "8080/tcp" in config["ExposedPorts"]


def test_backend_matches_the_variant(host: Host, image: ImageInfo) -> None:
    has_tensorflow = host.run("python3 -c 'import tensorflow'").rc == 0
    has_openvino = host.run("python3 -c 'import openvino'").rc == 0
    assert (has_tensorflow, has_openvino) == (
        image.backend == "tensorflow",
        image.backend == "litert",
    )


def test_its_own_backend_is_the_fastest_accurate_one_it_runs(
    host: Host, image: ImageInfo, local_model: Path
) -> None:
    # The local model is as accurate with OpenVINO as in float32 (training measured it), so
    # the slim image runs OpenVINO rather than LiteRT.
    metadata = json.loads((local_model / METADATA_FILE).read_text())
    drop = metadata["saved_model"]["accuracy"] - metadata["litert"]["int8"]["openvino_accuracy"]
    assert drop <= 0.005
    environ = host.run("cat /proc/1/environ").stdout.split("\0")
    expected = {"tensorflow": "tensorflow-bf16", "litert": "openvino"}[image.backend]
    assert f"MODEL_BACKEND={expected}" in environ


def test_the_tensorflow_image_refuses_openvino_and_stays_not_ready(
    image_record: ImageRecord,
) -> None:
    built = as_built(image_record.image)
    settings = dataclasses.replace(built, env={**built.env, "MODEL_BACKEND": "openvino"})
    name = f"test-image-refuses-openvino-{os.getpid()}"
    with run.running(image_record.image.image_id, settings, name=name) as container:
        deadline = time.monotonic() + 120
        while "model not loaded" not in (logs := run.logs(container)):
            assert time.monotonic() < deadline, f"no load error logged; logs:\n{logs}"
            time.sleep(1)
        assert (
            "BackendRefused: MODEL_BACKEND=openvino: OpenVINO is not installed in this image; "
            "the slim image has it"
        ) in logs
        ready = requests.get(f"{container.url}/v2/health/ready", timeout=5)
        assert ready.status_code == 503


def test_a_digit_gets_its_class(served: run.RunningContainer, digits: Digits) -> None:
    zero = next(picture for picture, label in digits.test if label == "0")
    assert top_label(served.url, zero) == "0"


def test_test_split_accuracy_matches_training(
    served: run.RunningContainer, digits: Digits, local_model: Path, image: ImageInfo
) -> None:
    metadata = json.loads((local_model / "metadata.json").read_text())
    expected = (
        metadata["metrics"]["test_accuracy"]
        if image.backend == "tensorflow"
        else metadata["litert"]["int8"]["accuracy"]
    )
    assert accuracy(served.url, digits.test) >= expected - 0.02
