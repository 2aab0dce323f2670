"""Model store: find <base>/<name>/<version>/ and verify it against its metadata.json."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ModelStoreError(RuntimeError):
    """The model directory is missing, malformed or fails its checksum; the message says where."""


@dataclass(frozen=True)
class ModelArtifact:
    """One verified model version: where it is and what its metadata promises."""

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


def available_versions(base: Path, name: str) -> list[int]:
    """Integer version directories of model `name` under `base`, ascending."""
    model_dir = base / name
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())


def locate(base: Path, name: str, version: int | None) -> Path:
    """The version directory to serve: `version` if given, else the highest one."""
    versions = available_versions(base, name)
    if not versions:
        raise ModelStoreError(
            f"no versions of model {name!r} under {base / name} (MODEL_BASE_PATH)"
        )
    if version is None:
        return base / name / str(versions[-1])
    if version not in versions:
        raise ModelStoreError(
            f"MODEL_VERSION={version}: no such version under {base / name} (found {versions})"
        )
    return base / name / str(version)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify_files(path: Path, files: dict[str, str]) -> None:
    """Raise unless every file listed in metadata exists with the listed sha256."""
    if not files:
        raise ModelStoreError(f"{path / 'metadata.json'}: 'files' lists no checksums")
    for relative, expected in sorted(files.items()):
        file = path / relative
        if not file.is_file():
            raise ModelStoreError(f"{file}: listed in metadata.json 'files' but missing")
        actual = sha256_of(file)
        if actual != expected:
            raise ModelStoreError(
                f"{file}: sha256 {actual} does not match metadata.json 'files' ({expected})"
            )


def _field(metadata: dict[str, Any], source: Path, *keys: str) -> Any:
    value: Any = metadata
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ModelStoreError(f"{source}: missing key {'.'.join(keys)!r}")
        value = value[key]
    return value


def load_artifact(base: Path, name: str, version: int | None) -> ModelArtifact:
    """Locate, read metadata.json and verify checksums; raise ModelStoreError on any mismatch."""
    path = locate(base, name, version)
    source = path / "metadata.json"
    try:
        metadata = json.loads(source.read_text())
    except (OSError, ValueError) as error:
        raise ModelStoreError(f"{source}: cannot read metadata: {error}") from None
    verify_files(path, dict(_field(metadata, source, "files")))
    classes = _field(metadata, source, "classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise ModelStoreError(f"{source}: 'classes' must be a non-empty list of strings")
    channels = _field(metadata, source, "input", "channels")
    if channels != 3:
        raise ModelStoreError(f"{source}: 'input.channels' must be 3, got {channels!r}")
    return ModelArtifact(
        name=name,
        version=int(path.name),
        path=path,
        classes=tuple(classes),
        height=int(_field(metadata, source, "input", "height")),
        width=int(_field(metadata, source, "input", "width")),
        litert_int8_file=str(_field(metadata, source, "litert", "int8", "file")),
    )
