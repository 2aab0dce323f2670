"""Dataset scanning, checks and the deterministic split, on real image files."""

from pathlib import Path

import pytest
from PIL import Image

from tests.training.images import write_dataset
from training.dataset import Dataset, load_dataset
from training.digits import write_digits
from training.errors import TrainingError

pytestmark = [pytest.mark.training, pytest.mark.unit]

CLASSES = {"cat": 20, "dog": 20, "fox": 20}


def split(root: Path, seed: int = 1) -> Dataset:
    return load_dataset(root, validation_fraction=0.2, test_fraction=0.2, seed=seed)


def test_split_is_disjoint_complete_and_stratified(tmp_path: Path) -> None:
    dataset = split(write_dataset(tmp_path, CLASSES))
    parts = [dataset.train, dataset.validation, dataset.test]
    files = [set(part.files) for part in parts]
    assert sum(len(f) for f in files) == len(set().union(*files)) == 60
    assert [len(part.files) for part in parts] == [36, 12, 12]
    for part in parts:
        assert {dataset.classes[label] for label in part.labels} == set(CLASSES)
        assert all(
            name.startswith(dataset.classes[label] + "/")
            for name, label in zip(part.files, part.labels, strict=True)
        )


def test_same_seed_same_split_other_seed_other_split(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, CLASSES)
    assert split(root, seed=1) == split(root, seed=1)
    assert split(root, seed=1).test != split(root, seed=2).test


def test_hash_covers_image_contents(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, CLASSES)
    before = split(root).sha256
    Image.new("RGB", (12, 12), "white").save(root / "cat" / "0.png")
    assert split(root).sha256 != before


def test_sample_draws_across_classes(tmp_path: Path) -> None:
    dataset = split(write_dataset(tmp_path, CLASSES))
    sample = dataset.sample(dataset.train, 12, seed=3)
    assert len(sample.files) == 12 and len(set(sample.labels)) == 3


def _empty(root: Path) -> None:
    root.mkdir()


def _class_without_images(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 5})
    (root / "owl").mkdir()
    (root / "owl" / "notes.txt").write_text("no images here")


def _corrupt_image(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 5})
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")


def _truncated_jpeg(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 5})
    Image.new("RGB", (64, 64), "red").save(root / "cat" / "big.jpg", quality=95)
    data = (root / "cat" / "big.jpg").read_bytes()
    (root / "cat" / "big.jpg").write_bytes(data[: len(data) // 2])


def _unsupported_format(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 5})
    Image.new("RGB", (12, 12), "red").save(root / "cat" / "tiff.png", format="TIFF")


def _too_few_images(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 2})


BAD_DATASETS = {
    "missing": (lambda root: None, "dataset directory {root} does not exist"),
    "empty": (_empty, "dataset directory {root} is empty: expected one folder per class"),
    "class without images": (_class_without_images, "class 'owl' has no images in {root}/owl"),
    "corrupt image": (_corrupt_image, "corrupt image {root}/dog/broken.png"),
    "truncated jpeg": (_truncated_jpeg, "corrupt image {root}/cat/big.jpg"),
    "unsupported format": (
        _unsupported_format,
        "unsupported image format TIFF in {root}/cat/tiff.png",
    ),
    "too few images": (_too_few_images, "class 'dog' has only 2 images"),
}


@pytest.mark.parametrize("case", BAD_DATASETS)
def test_bad_dataset_is_one_line_naming_the_problem(tmp_path: Path, case: str) -> None:
    make, expected = BAD_DATASETS[case]
    root = tmp_path / "data"
    make(root)
    with pytest.raises(TrainingError) as raised:
        split(root)
    assert expected.format(root=root) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_digits_are_written_as_class_folders_of_rgb_pngs(tmp_path: Path) -> None:
    root = tmp_path / "digits"
    assert write_digits(root) == 1797
    assert sorted(path.name for path in root.iterdir()) == [str(digit) for digit in range(10)]
    with Image.open(next((root / "7").iterdir())) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))
    assert sum(1 for _ in root.rglob("*.png")) == 1797
    assert not list(tmp_path.glob(".*")), "no partial directory left behind"
