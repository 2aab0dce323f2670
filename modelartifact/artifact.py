"""A verified model version: its metadata read and every file checked against its sha256."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from modelartifact.errors import ArtifactError
from modelartifact.layout import METADATA_FILE
from modelartifact.metadata import read_metadata


@dataclass(frozen=True)
class ModelArtifact:
    """One verified model version: where it is and what its metadata promises its readers."""

    name: str
    version: int
    path: Path
    classes: tuple[str, ...]
    height: int
    width: int
    litert_int8_file: str

    @property
    def num_classes(self) -> int:
        """How many probabilities the model returns per image."""
        return len(self.classes)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def file_hashes(version_dir: Path) -> dict[str, str]:
    """sha256 of every file under `version_dir` but metadata.json, keyed by relative path."""
    return {
        path.relative_to(version_dir).as_posix(): sha256_file(path)
        for path in sorted(version_dir.rglob("*"))
        if path.is_file() and path.name != METADATA_FILE
    }


def verify_files(version_dir: Path, files: dict[str, str]) -> None:
    """Raise ArtifactError unless every listed file exists with the listed sha256."""
    for relative, expected in sorted(files.items()):
        path = version_dir / relative
        if not path.is_file():
            raise ArtifactError(f"{path}: listed in {METADATA_FILE} 'files' but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ArtifactError(
                f"{path}: sha256 {actual} does not match {METADATA_FILE} 'files' ({expected})"
            )


def load_artifact(version_dir: Path) -> ModelArtifact:
    """Read and verify `<base>/<name>/<version>/`; the directory names the model and version.

    The directory, not metadata.json, decides the version, as TF Serving reads it: a copy of
    a version under another number serves as that number.
    """
    if not version_dir.name.isdigit() or int(version_dir.name) < 1:
        raise ArtifactError(f"{version_dir}: a version directory is named by a number >= 1")
    metadata = read_metadata(version_dir)
    verify_files(version_dir, metadata.files)
    return ModelArtifact(
        name=version_dir.parent.name,
        version=int(version_dir.name),
        path=version_dir,
        classes=tuple(metadata.classes),
        height=metadata.input.height,
        width=metadata.input.width,
        litert_int8_file=metadata.litert.int8.file,
    )
