"""A class-per-folder image dataset (`root/<class>/*.png|jpg`): scanned, checked, split, hashed."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from modelartifact.inputs import IMAGE_FORMATS
from training.config import TrainingConfig
from training.digits import write_digits
from training.errors import TrainingError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Split:
    """One part of the dataset: image paths relative to the root and their class indices."""

    files: tuple[str, ...]
    labels: tuple[int, ...]


@dataclass(frozen=True)
class Dataset:
    """A checked dataset with its deterministic train/validation/test split."""

    root: Path
    classes: tuple[str, ...]
    sha256: str
    train: Split
    validation: Split
    test: Split

    def splits(self) -> dict[str, Split]:
        """The three parts by name."""
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def sample(self, split: Split, count: int, seed: int) -> Split:
        """At most `count` images of `split`, drawn with `seed` across all classes."""
        rng = np.random.default_rng(seed)
        chosen = sorted(rng.permutation(len(split.files))[:count])
        return Split(tuple(split.files[i] for i in chosen), tuple(split.labels[i] for i in chosen))

    def paths(self, split: Split) -> list[str]:
        """Absolute paths of a split's images, for tf.data."""
        return [str(self.root / name) for name in split.files]


def _check_image(path: Path) -> None:
    try:
        with Image.open(path) as image:
            image.load()
            image_format = image.format
    except (OSError, UnidentifiedImageError, SyntaxError) as error:
        raise TrainingError(f"corrupt image {path}: {error}") from None
    if image_format not in IMAGE_FORMATS:  # checked up front, not mid-training
        expected = " or ".join(IMAGE_FORMATS)
        raise TrainingError(
            f"unsupported image format {image_format} in {path} (expected {expected})"
        )


def _class_files(root: Path, max_per_class: int | None) -> dict[str, list[Path]]:
    if not root.is_dir():
        raise TrainingError(f"dataset directory {root} does not exist")
    class_dirs = sorted(
        path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")
    )
    if not class_dirs:
        raise TrainingError(f"dataset directory {root} is empty: expected one folder per class")
    if len(class_dirs) < 2:
        raise TrainingError(f"dataset directory {root} has one class folder; need at least two")
    classes = {}
    for class_dir in class_dirs:
        files = sorted(
            path for path in class_dir.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise TrainingError(
                f"class {class_dir.name!r} has no images in {class_dir} "
                f"(expected {', '.join(IMAGE_SUFFIXES)} files)"
            )
        classes[class_dir.name] = files[:max_per_class]
    return classes


def _sha256(root: Path, files: list[Path]) -> str:
    # Relative paths are hashed with the contents so that relabelling changes the hash too.
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_dataset(
    root: Path,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    max_per_class: int | None = None,
) -> Dataset:
    """Scan and check every image under `root`, then split each class with `seed`."""
    by_class = _class_files(root, max_per_class)
    everything = [path for files in by_class.values() for path in files]
    for path in everything:
        _check_image(path)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[tuple[str, int]]] = {"train": [], "validation": [], "test": []}
    for label, files in enumerate(by_class.values()):
        n_test = max(1, round(len(files) * test_fraction))
        n_validation = max(1, round(len(files) * validation_fraction))
        if n_test + n_validation >= len(files):
            raise TrainingError(
                f"class {files[0].parent.name!r} has only {len(files)} images in "
                f"{files[0].parent}; too few to train, validate and test"
            )
        order = rng.permutation(len(files))
        names = [files[i].relative_to(root).as_posix() for i in order]
        parts["test"] += [(name, label) for name in names[:n_test]]
        parts["validation"] += [(name, label) for name in names[n_test : n_test + n_validation]]
        parts["train"] += [(name, label) for name in names[n_test + n_validation :]]
    splits = {
        name: Split(tuple(f for f, _ in sorted(items)), tuple(label for _, label in sorted(items)))
        for name, items in parts.items()
    }
    return Dataset(
        root=root,
        classes=tuple(by_class),
        sha256=_sha256(root, everything),
        **splits,
    )


def prepare_dataset(config: TrainingConfig) -> Dataset:
    """Materialise the embedded digits if the config asks for them, then load the dataset."""
    if config.dataset == "digits" and not config.data_dir.exists():
        write_digits(config.data_dir)
    return load_dataset(
        config.data_dir,
        config.validation_fraction,
        config.test_fraction,
        config.seed,
        config.max_images_per_class,
    )
