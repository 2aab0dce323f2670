"""The model-artifact definition on a small synthetic version: layout, schema, checksums."""

import json
from pathlib import Path

import pytest

from modelartifact import ArtifactError, latest_version_dir, load_artifact, published_versions
from tests.modelartifact.synthetic import publish

pytestmark = pytest.mark.unit


def test_versions_are_numbers_and_hidden_directories_are_not_published(tmp_path: Path) -> None:
    for name in ("9", "10", ".partial-1-abc", "notes"):
        (tmp_path / name).mkdir()
    assert published_versions(tmp_path) == [9, 10]
    assert latest_version_dir(tmp_path) == tmp_path / "10"
    assert latest_version_dir(tmp_path / "missing") is None


def test_the_directory_names_the_model_and_its_version(tmp_path: Path) -> None:
    artifact = load_artifact(publish(tmp_path / "image-classifier", "7"))
    assert (artifact.name, artifact.version) == ("image-classifier", 7)
    assert (artifact.classes, artifact.height, artifact.num_classes) == (("cat", "dog"), 8, 2)
    assert artifact.litert_int8_file == "model_int8.tflite"


def test_a_changed_file_fails_its_checksum(tmp_path: Path) -> None:
    directory = publish(tmp_path, "1")
    (directory / "model_int8.tflite").write_bytes(b"changed")
    with pytest.raises(ArtifactError, match=r"model_int8\.tflite: sha256 .* does not match"):
        load_artifact(directory)


def test_metadata_errors_name_the_file_and_the_keys(tmp_path: Path) -> None:
    directory = publish(tmp_path, "1")
    metadata = json.loads((directory / "metadata.json").read_text())
    del metadata["classes"]
    metadata["input"]["channels"] = 1
    (directory / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError) as raised:
        load_artifact(directory)
    message = str(raised.value)
    assert "1/metadata.json: not model metadata" in message
    assert "'classes': Field required" in message and "'input.channels'" in message
