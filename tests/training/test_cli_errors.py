"""Bad input to `python -m training`: one line `error: …`, exit code 2, nothing in models/."""

from pathlib import Path

import pytest

from tests.training.images import write_dataset
from tests.training.training_cli import run_training

pytestmark = pytest.mark.training


def _corrupt(root: Path) -> None:
    write_dataset(root, {"cat": 5, "dog": 5})
    (root / "dog" / "broken.png").write_bytes(b"not an image")


CASES = {
    "empty dataset dir": (
        ["--data-dir", "{tmp}/data"],
        lambda tmp: (tmp / "data").mkdir(),
        "error: dataset directory {tmp}/data is empty: expected one folder per class",
    ),
    "class with no images": (
        ["--data-dir", "{tmp}/data"],
        lambda tmp: (write_dataset(tmp / "data", {"cat": 5}), (tmp / "data/dog").mkdir()),
        "error: class 'dog' has no images in {tmp}/data/dog",
    ),
    "corrupt image": (
        ["--data-dir", "{tmp}/data"],
        lambda tmp: _corrupt(tmp / "data"),
        "error: corrupt image {tmp}/data/dog/broken.png: cannot identify image file",
    ),
    "unknown environment": (
        ["--env", "nosuch"],
        lambda tmp: None,
        "error: unknown environment 'nosuch': no Pulumi.nosuch.yaml in",
    ),
    "unreadable environment": (
        ["--env", "broken", "--environments-dir", "{tmp}"],
        lambda tmp: (tmp / "Pulumi.broken.yaml").write_text("config: [unclosed\n"),
        "error: {tmp}/Pulumi.broken.yaml: not valid YAML",
    ),
    "unknown config key": (
        ["--env", "broken", "--environments-dir", "{tmp}"],
        lambda tmp: (tmp / "Pulumi.broken.yaml").write_text(
            "config:\n  image-classifier:training:\n    epoch: 3\n"
        ),
        "error: {tmp}/Pulumi.broken.yaml: image-classifier:training: unknown key 'epoch'",
    ),
    "bad flag value": (
        ["--epochs", "0"],
        lambda tmp: None,
        "error: command line: --epochs: Input should be greater than or equal to 1 (got 0)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, case: str) -> None:
    args, prepare, expected = CASES[case]
    prepare(tmp_path)
    models = tmp_path / "models"
    flags = ["--env", "local", "--models-dir", str(models)]
    result = run_training(*flags, *(arg.format(tmp=tmp_path) for arg in args))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(expected.format(tmp=tmp_path)), result.stderr
    assert not models.exists()
