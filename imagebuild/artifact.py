"""The model artifact an image bakes in: `models/<env>/image-classifier/<version>/` (contract 1)."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.artifacts import METADATA_FILE, latest_version_dir, sha256_file
from training.ensure import MODELS_DIR


class ArtifactError(RuntimeError):
    """No model for the environment, or one whose files do not match its metadata."""


@dataclass(frozen=True)
class ModelArtifact:
    """One exported model version and its metadata.json."""

    path: Path
    version: str
    metadata: dict[str, Any]

    @property
    def files(self) -> dict[str, str]:
        """Relative path -> sha256 of every file the metadata vouches for."""
        return dict(self.metadata.get("files") or {})


def latest_model(env: str) -> ModelArtifact:
    """The environment's newest published version, its files checked against its metadata."""
    path = latest_version_dir(MODELS_DIR, env)
    if path is None:
        raise ArtifactError(
            f"no trained model under {MODELS_DIR / env}: run `make train ENV={env}` first"
        )
    return load_model(path)


def load_model(path: Path) -> ModelArtifact:
    """Read a version directory's metadata.json and check every listed file's sha256."""
    metadata_file = path / METADATA_FILE
    try:
        metadata = json.loads(metadata_file.read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{metadata_file}: unreadable model metadata: {error}") from error
    artifact = ModelArtifact(path=path, version=path.name, metadata=metadata)
    if str(metadata.get("version")) != path.name:
        raise ArtifactError(f"{metadata_file}: 'version' is not the directory's name {path.name}")
    if not artifact.files:
        raise ArtifactError(f"{metadata_file}: 'files' lists no file with its sha256")
    for relative, expected in artifact.files.items():
        actual = sha256_file(path / relative)
        if actual != expected:
            raise ArtifactError(
                f"{path / relative}: sha256 {actual}, {METADATA_FILE} has {expected}"
            )
    return artifact
