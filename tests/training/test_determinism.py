"""Same data, seed and environment retrain to byte-identical weights; another seed does not."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from modelartifact import environment_base, model_dir
from tests.training.training_cli import finish_training, start_training

pytestmark = pytest.mark.training

VARIABLES = "variables/variables.data-00000-of-00001"
TINY = ["--env", "local", "--epochs", "1", "--max-images-per-class", "15"]


def saved_weights(version_dir: Path) -> list[np.ndarray]:
    """The model weights as stored in the SavedModel's checkpoint, in layer order."""
    reader = tf.train.load_checkpoint(str(version_dir / "variables" / "variables"))
    count = sum(1 for key in reader.get_variable_to_shape_map() if key.startswith("weights/"))
    return [reader.get_tensor(f"weights/{i}/.ATTRIBUTES/VARIABLE_VALUE") for i in range(count)]


def train_tiny(models: Path, *extra: str) -> subprocess.Popen[str]:
    """Start training the tiny config into `models`."""
    return start_training(*TINY, "--models-dir", str(models), *extra)


def published(training: subprocess.Popen[str]) -> Path:
    """The version directory a started training published."""
    result = finish_training(training)
    assert result.returncode == 0, result.stderr[-2000:]
    return Path(result.stdout.strip().splitlines()[-1].removeprefix("published "))


def metadata(version_dir: Path) -> dict:
    """The version's metadata.json."""
    return json.loads((version_dir / "metadata.json").read_text())


def test_retraining_is_byte_identical_and_the_seed_matters(tmp_path: Path) -> None:
    # The other seed trains beside the first run (its own models directory); the retraining
    # follows the first into the same one, as a second `make train` would.
    models, other_models = tmp_path / "models", tmp_path / "other-seed"
    first_run, other_run = train_tiny(models), train_tiny(other_models, "--seed", "7")
    first = published(first_run)
    second = published(train_tiny(models))
    other_seed = published(other_run)
    assert (first.name, second.name) == ("1", "2")
    assert metadata(first)["dataset"] == metadata(second)["dataset"]
    first_weights, second_weights = saved_weights(first), saved_weights(second)
    assert len(first_weights) == 10
    assert [w.tobytes() for w in first_weights] == [w.tobytes() for w in second_weights]
    assert (
        metadata(first)["training"]["weights_sha256"]
        == metadata(second)["training"]["weights_sha256"]
    )
    assert metadata(first)["files"][VARIABLES] == metadata(second)["files"][VARIABLES]
    assert saved_weights(other_seed)[0].tobytes() != first_weights[0].tobytes()
    versions = model_dir(environment_base(models, "local")).iterdir()
    assert sorted(p.name for p in versions) == ["1", "2"]
