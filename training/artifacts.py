"""Model artifact layout: models/<env>/image-classifier/<version>/, TF Serving style."""

import hashlib
from pathlib import Path

MODEL_NAME = "image-classifier"
METADATA_FILE = "metadata.json"


def model_root(models_dir: Path, environment: str) -> Path:
    """The directory holding every version of `environment`'s model."""
    return models_dir / environment / MODEL_NAME


def published_versions(root: Path) -> list[int]:
    """Integer version directories under `root`, ascending; temporary ones start with a dot."""
    if not root.is_dir():
        return []
    return sorted(
        int(path.name) for path in root.iterdir() if path.is_dir() and path.name.isdigit()
    )


def latest_version_dir(models_dir: Path, environment: str) -> Path | None:
    """The newest published version directory of `environment`'s model, if any."""
    root = model_root(models_dir, environment)
    versions = published_versions(root)
    return root / str(versions[-1]) if versions else None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def file_hashes(version_dir: Path) -> dict[str, str]:
    """sha256 of every file under `version_dir` except metadata.json, keyed by relative path."""
    return {
        path.relative_to(version_dir).as_posix(): sha256_file(path)
        for path in sorted(version_dir.rglob("*"))
        if path.is_file() and path.name != METADATA_FILE
    }
