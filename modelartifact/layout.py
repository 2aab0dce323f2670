"""Where a model's versions live: `<base>/<name>/<version>/`, as TF Serving lays them out."""

from pathlib import Path

MODEL_NAME = "image-classifier"
METADATA_FILE = "metadata.json"
# What TensorFlow reads of a SavedModel directory (the rest of a version is LiteRT and reports).
SAVED_MODEL_PARTS = ("saved_model.pb", "fingerprint.pb", "variables/", "assets/")


def environment_base(models_dir: Path, environment: str) -> Path:
    """`models/<env>/`: where training publishes an environment's model (its MODEL_BASE_PATH)."""
    return models_dir / environment


def model_dir(base: Path, name: str = MODEL_NAME) -> Path:
    """`<base>/<name>/`: the directory holding every version of model `name`."""
    return base / name


def published_versions(directory: Path) -> list[int]:
    """The integer version directories of a model directory, ascending (10 after 9).

    Anything else is not a published version: training builds the next one in a hidden
    directory and renames it into place when it is complete.
    """
    if not directory.is_dir():
        return []
    return sorted(int(path.name) for path in directory.iterdir() if _is_version(path))


def latest_version_dir(directory: Path) -> Path | None:
    """The newest published version directory of a model directory, if there is one."""
    versions = published_versions(directory)
    return directory / str(versions[-1]) if versions else None


def _is_version(path: Path) -> bool:
    return path.is_dir() and path.name.isdigit() and int(path.name) >= 1


def is_saved_model_file(relative: str) -> bool:
    """Whether a version's file (relative path) is part of its SavedModel."""
    return any(
        relative == part or (part.endswith("/") and relative.startswith(part))
        for part in SAVED_MODEL_PARTS
    )
