"""The model artifact an image bakes in: `models/<env>/image-classifier/<version>/` (contract 1)."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envconfig import REPO_ROOT

MODEL_NAME = "image-classifier"


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


def models_dir(env: str) -> Path:
    """Where `make train ENV=env` writes the environment's model versions."""
    return REPO_ROOT / "models" / env / MODEL_NAME


def latest_model(env: str) -> ModelArtifact:
    """The environment's newest version (numeric versions compare as numbers), verified."""
    directory = models_dir(env)
    versions = [path for path in directory.glob("*") if (path / "metadata.json").is_file()]
    if not versions:
        raise ArtifactError(
            f"no trained model in {directory} (no <version>/metadata.json): "
            f"run `make train ENV={env}` first"
        )
    return load_model(max(versions, key=_version_order))


def load_model(path: Path) -> ModelArtifact:
    """Read a version directory's metadata.json and check every listed file's sha256."""
    metadata_file = path / "metadata.json"
    try:
        metadata = json.loads(metadata_file.read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{metadata_file}: unreadable model metadata: {error}") from error
    version = str(metadata.get("version", ""))
    if version != path.name:
        raise ArtifactError(
            f"{metadata_file}: version {version!r} but the directory is {path.name!r}"
        )
    artifact = ModelArtifact(path=path, version=version, metadata=metadata)
    if not artifact.files:
        raise ArtifactError(f"{metadata_file}: 'files' lists no file with its sha256")
    for relative, expected in artifact.files.items():
        actual = sha256_file(path / relative)
        if actual != expected:
            raise ArtifactError(
                f"{path / relative}: sha256 {actual}, metadata.json says {expected}"
            )
    return artifact


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (streamed: SavedModel variables can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version_order(path: Path) -> tuple[int, int, str]:
    return (1, int(path.name), "") if path.name.isdigit() else (0, 0, path.name)
