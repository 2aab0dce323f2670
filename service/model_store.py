"""Model store: pick the version to serve under MODEL_BASE_PATH, then load it verified.

The layout, metadata schema and checksum rules are modelartifact's; this module adds only the
service's choice (MODEL_VERSION, else the newest) and errors naming its settings.
"""

from pathlib import Path

from modelartifact import ArtifactError, ModelArtifact, model_dir, published_versions
from modelartifact import load_artifact as load_version


def locate(base: Path, name: str, version: int | None) -> Path:
    """The version directory to serve: `version` if given, else the highest one."""
    directory = model_dir(base, name)
    versions = published_versions(directory)
    if not versions:
        raise ArtifactError(f"no versions of model {name!r} under {directory} (MODEL_BASE_PATH)")
    if version is None:
        return directory / str(versions[-1])
    if version not in versions:
        raise ArtifactError(
            f"MODEL_VERSION={version}: no such version under {directory} (found {versions})"
        )
    return directory / str(version)


def load_artifact(base: Path, name: str, version: int | None) -> ModelArtifact:
    """Locate the version, read its metadata.json and verify its files; ArtifactError if not."""
    return load_version(locate(base, name, version))
