"""Fixtures for the image tests: the local environment's images, built once, and digits to send."""

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import testinfra
from testinfra.host import Host

from imagebuild import run
from imagebuild.build import build_environment
from imagebuild.record import ImageInfo, ImageRecord
from modelartifact.encryption import encode_data_key
from modelartifact.keystore import KeyStore
from tests.fixtures.images import NicedBuild
from training.digits import write_digits
from training.ensure import latest_trained

VARIANTS = ("image", "slim")
# The image as it is, run only with what any runtime must give it: a writable /tmp.
AS_BUILT = run.PodSettings(
    command=(),
    args=(),
    env={},
    user=None,
    read_only=True,
    drop_all_capabilities=False,
    no_new_privileges=False,
    tmpfs={"/tmp": None},
    container_port=8080,
    probes=(run.Probe(kind="readinessProbe", path="/v2/health/ready", port=8080),),
)
MODEL_KEYS_DIR = "/var/run/secrets/image-classifier/model"


def as_built(image: ImageInfo) -> run.PodSettings:
    """AS_BUILT plus what any runtime must also give the image: its model's keys (the public
    key from the record, the data key from the build host's key directory), mounted read-only."""
    return dataclasses.replace(
        AS_BUILT,
        env={
            "MODEL_PUBLIC_KEY_FILE": f"{MODEL_KEYS_DIR}/public-key.pem",
            "MODEL_KEY_FILE": f"{MODEL_KEYS_DIR}/data.key",
        },
        files={
            MODEL_KEYS_DIR: {
                "public-key.pem": image.model_keys.public_key.encode(),
                "data.key": encode_data_key(KeyStore.of("local").data_key()).encode(),
            }
        },
    )


@dataclass(frozen=True)
class Digits:
    """The model's held-out test images (its split.json) as PNG files with their labels."""

    root: Path
    test: list[tuple[Path, str]]


@pytest.fixture(scope="session")
def image_record(local_model: Path, local_image_build: NicedBuild[None]) -> ImageRecord:
    """The local environment's two images, built (or found up to date) once per session.

    They bake the newest published version (the e2e layer may have published one after
    `local_model`)."""
    local_image_build.result()
    record = build_environment("local")
    newest = latest_trained("local")
    assert newest is not None and record.image.model_version == int(newest.name)
    return record


@pytest.fixture(scope="session")
def digits(local_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Digits:
    """The digits dataset written afresh, and the test split the model was evaluated on."""
    root = tmp_path_factory.mktemp("digits") / "digits"
    write_digits(root)
    split = json.loads((local_model / "split.json").read_text())
    return Digits(root=root, test=[(root / name, name.split("/")[0]) for name in split["test"]])


@pytest.fixture(scope="session", params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    """Which image: the TensorFlow one ("image") or the LiteRT one ("slim")."""
    return str(request.param)


@pytest.fixture(scope="session")
def image(image_record: ImageRecord, variant: str) -> ImageInfo:
    """The record's entry for the variant under test."""
    return image_record.image if variant == "image" else image_record.slim


@pytest.fixture(scope="session")
def served(image: ImageInfo) -> Iterator[run.RunningContainer]:
    """The image run as built (its own user, entrypoint and env), ready on a 127.0.0.1 port."""
    settings = as_built(image)
    with run.running(
        image.image_id, settings, name=f"test-image-{image.backend}-{os.getpid()}"
    ) as container:
        run.wait_until_ready(container, settings.probes[0])
        yield container


@pytest.fixture(scope="session")
def host(served: run.RunningContainer) -> Host:
    """testinfra's view of the running container (commands go through `podman exec`)."""
    return testinfra.get_host("podman://" + served.container_id)
