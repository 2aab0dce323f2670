"""The training config: defaults, environment file, command line, and errors naming key and file."""

from pathlib import Path

import pytest

from envconfig import Environment, known_environments, load_environment
from training.config import TrainingConfig, resolve_config
from training.errors import TrainingError

pytestmark = [pytest.mark.training, pytest.mark.unit]


def environment_with(tmp_path: Path, training_yaml: str) -> Environment:
    """A stack file whose image-classifier:training section is `training_yaml`."""
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(f"config:\n  image-classifier:training:\n{training_yaml}")
    return load_environment("test", tmp_path)


def test_defaults_are_the_design() -> None:
    config = TrainingConfig()
    assert (config.image_size, config.epochs, config.learning_rate) == (224, 10, 0.001)


def test_environment_overrides_defaults_and_flags_override_environment(tmp_path: Path) -> None:
    environment = environment_with(tmp_path, "    imageSize: 48\n    epochs: 3\n")
    config = resolve_config(environment, {"epochs": 1, "seed": None})
    assert (config.image_size, config.epochs, config.seed) == (48, 1, 42)


def test_relative_paths_are_anchored_at_the_repo_root(tmp_path: Path) -> None:
    config = resolve_config(environment_with(tmp_path, "    dataDir: data/x\n"), {})
    assert config.data_dir == Path(__file__).resolve().parents[2] / "data/x"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("    imgSize: 32\n", "unknown key 'imgSize' (known: dataset, dataDir"),
        ("    epochs: 0\n", "epochs: Input should be greater than or equal to 1 (got 0)"),
        ("    epochs: many\n", "epochs: Input should be a valid integer"),
        ("    dataset: images\n", "dataset: Input should be 'digits' or 'folder'"),
        (
            "    validationFraction: 0.5\n    testFraction: 0.45\n",
            "must leave at least 10% to train",
        ),
    ],
)
def test_bad_environment_section_is_one_line_naming_file_and_key(
    tmp_path: Path, section: str, expected: str
) -> None:
    environment = environment_with(tmp_path, section)
    with pytest.raises(TrainingError) as raised:
        resolve_config(environment, {})
    message = str(raised.value)
    assert message.startswith(f"{environment.path}: image-classifier:training: ")
    assert expected in message
    assert "\n" not in message


def test_bad_flag_names_the_command_line(tmp_path: Path) -> None:
    environment = environment_with(tmp_path, "    epochs: 2\n")
    with pytest.raises(TrainingError) as raised:
        resolve_config(environment, {"image_size": 8})
    assert str(raised.value) == (
        "command line: --image-size: Input should be greater than or equal to 32 (got 8)"
    )


@pytest.mark.parametrize("name", known_environments())
def test_every_environment_resolves(name: str) -> None:
    config = resolve_config(load_environment(name), {})
    assert config.image_size == {"local": 32, "dev": 64}.get(name, 224)
