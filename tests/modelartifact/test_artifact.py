"""The model-artifact definition on a small synthetic version: layout, schema, checksums."""

import json
from pathlib import Path
from typing import Any

import pytest

from modelartifact import (
    ArtifactError,
    ModelMetadata,
    file_hashes,
    latest_version_dir,
    load_artifact,
    published_versions,
    write_metadata,
)

pytestmark = pytest.mark.unit


def variant(file: str) -> dict[str, Any]:
    return {"file": file, "bytes": 1, "accuracy": 0.9, "signature": "serve_tensor"}


def publish(model_dir: Path, version: str, **changes: Any) -> Path:
    """A version directory as training publishes it, with `changes` to its metadata."""
    directory = model_dir / version
    directory.mkdir(parents=True)
    for name in ("saved_model.pb", "model_float16.tflite", "model_int8.tflite"):
        (directory / name).write_bytes(name.encode())
    facts: dict[str, Any] = {
        "name": "image-classifier",
        "environment": "test",
        "created": "2026-11-30T00:00:00+00:00",
        "classes": ["cat", "dog"],
        "input": {"height": 8, "width": 8, "channels": 3, "preprocessing": "/ 255"},
        "signatures": {},
        "saved_model": {},
        "litert": {
            "float16": variant("model_float16.tflite"),
            "int8": variant("model_int8.tflite"),
            "pruned": variant("model_float16.tflite"),
        },
        "dataset": {},
        "metrics": {},
        "eval": {},
        "training": {},
        "version": 1,
        "files": file_hashes(directory),
    }
    write_metadata(directory, ModelMetadata.model_validate({**facts, **changes}))
    return directory


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
