"""The build record and archives: what Pulumi deploys; unchanged inputs change nothing."""

import json
import re
import tarfile
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from imagebuild.build import build_environment
from imagebuild.podman import podman
from imagebuild.record import ImageRecord, record_path
from imagebuild.runtime import RUNTIME_REPOSITORY

pytestmark = pytest.mark.image

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def test_record_names_both_images_by_environment_model_version_and_revision(
    image_record: ImageRecord, local_model: Path
) -> None:
    data = json.loads(record_path("local").read_text())
    base = f"localhost/image-classifier:local-{local_model.name}-{image_record.revision}"
    assert data["reference"] == base
    assert data["slim"]["reference"] == f"{base}-slim"
    for entry in (data, data["slim"]):
        assert entry["model_version"] == int(local_model.name)
        assert DIGEST.match(entry["digest"]) and DIGEST.match(entry["archive_digest"])
    assert re.fullmatch(r"[0-9a-f]{64}", data["inputs_sha256"])


def test_slim_image_is_smaller(image_record: ImageRecord) -> None:
    assert image_record.slim.size_bytes < image_record.image.size_bytes


@pytest.mark.parametrize("variant", ["image", "slim"])
def test_archive_is_an_oci_archive_of_the_recorded_image(
    image_record: ImageRecord, variant: str
) -> None:
    info = image_record.image if variant == "image" else image_record.slim
    with tarfile.open(REPO_ROOT / info.archive) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        [manifest] = index["manifests"]
        blob = tar.extractfile(f"blobs/sha256/{manifest['digest'].removeprefix('sha256:')}")
        layers = json.load(blob)["layers"]  # type: ignore[arg-type]
    assert "oci-layout" in names
    assert manifest["digest"] == info.archive_digest
    assert manifest["annotations"]["org.opencontainers.image.ref.name"] == info.reference
    assert f"blobs/sha256/{info.image_id}" in names
    zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    assert {layer["mediaType"] for layer in layers} == {zstd}


def layers(reference: str) -> list[str]:
    return list(json.loads(podman(["image", "inspect", reference]))[0]["RootFS"]["Layers"])


@pytest.mark.parametrize("variant", ["image", "slim"])
def test_an_image_is_its_runtime_image_plus_the_model_and_service_layers(
    image_record: ImageRecord, variant: str
) -> None:
    info = image_record.image if variant == "image" else image_record.slim
    own = layers(info.reference)
    tags = podman(["images", "--format", "{{.Tag}}", RUNTIME_REPOSITORY]).split()
    runtimes = [
        layers(f"{RUNTIME_REPOSITORY}:{tag}") for tag in tags if tag.startswith(f"{info.backend}-")
    ]
    [runtime] = [runtime for runtime in runtimes if own[: len(runtime)] == runtime]
    # The trimmed base and the virtualenv below; the model, modelartifact/ and service/ above.
    assert len(runtime) == 2
    assert len(own) - len(runtime) == 3


def test_rebuild_with_unchanged_inputs_keeps_digests_and_record_and_prunes_old_tags(
    image_record: ImageRecord,
) -> None:
    # The current build (made now if a commit since the session began made a new revision),
    # then podman build run again on the same inputs.
    first = build_environment("local")
    written = record_path("local").read_bytes()
    second = build_environment("local", force=True)
    assert second == first
    assert record_path("local").read_bytes() == written
    # Each build untags the environment's older builds but the previous one.
    tags = podman(["images", "--format", "{{.Tag}}", "localhost/image-classifier"]).split()
    builds = {tag.removesuffix("-slim") for tag in tags if tag.startswith("local-")}
    assert {second.image.tag, second.slim.tag} <= set(tags)
    assert len(builds) <= 2, sorted(builds)
