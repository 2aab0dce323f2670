"""The training configuration: one typed object, resolved once at the edge.

Override order (later wins):
1. the defaults documented on `TrainingConfig` (the design: 224x224x3 input, 10 epochs, adam),
2. the environment's `image-classifier:training` section in environments/Pulumi.<env>.yaml,
   written in camelCase (`imageSize: 32`),
3. command-line flags of `python -m training` (`--epochs 3`).
Relative paths are relative to the repository root. An unknown key or a bad value is a
TrainingError naming the key and the file (or flag) it came from.
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from envconfig import PROJECT, REPO_ROOT, Environment
from training.errors import TrainingError


class TrainingConfig(BaseModel):
    """Every setting of one training run, with the design's defaults."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )

    dataset: Literal["digits", "folder"] = Field(
        default="digits",
        description="digits: write scikit-learn's digits into data_dir if it does not exist; "
        "folder: data_dir must already hold <class>/*.png|jpg",
    )
    data_dir: Path = Field(
        default=Path("data/digits"), description="class-per-folder image dataset"
    )
    models_dir: Path = Field(
        default=Path("models"), description="artifacts go to <models_dir>/<env>/"
    )
    image_size: int = Field(
        default=224,
        ge=32,
        description="model input height and width in pixels (3 conv+pool stages)",
    )
    epochs: int = Field(default=10, ge=1, description="training epochs")
    batch_size: int = Field(default=32, ge=1, description="images per training step")
    learning_rate: float = Field(default=1e-3, gt=0, description="adam learning rate")
    seed: int = Field(default=42, ge=0, description="seed for the split, weights, shuffling")
    validation_fraction: float = Field(
        default=0.15, gt=0, lt=1, description="share held for validation"
    )
    test_fraction: float = Field(
        default=0.15, gt=0, lt=1, description="share held out for the test"
    )
    max_images_per_class: int | None = Field(
        default=None, ge=3, description="use at most this many images of each class (tiny runs)"
    )
    representative_images: int = Field(
        default=200, ge=1, description="training images that calibrate the int8 quantisation"
    )
    pruning_sparsity: float = Field(default=0.5, ge=0, lt=1, description="target weight sparsity")
    pruning_epochs: int = Field(default=2, ge=1, description="fine-tuning epochs while pruning")

    @field_validator("data_dir", "models_dir")
    @classmethod
    def _anchor_at_repo_root(cls, path: Path) -> Path:
        return path if path.is_absolute() else REPO_ROOT / path

    @model_validator(mode="after")
    def _leave_training_images(self) -> "TrainingConfig":
        if self.validation_fraction + self.test_fraction >= 0.9:
            raise ValueError("validationFraction + testFraction must leave at least 10% to train")
        return self

    def to_json(self) -> dict[str, Any]:
        """The resolved settings as JSON-ready camelCase keys, as written in the stack file."""
        return self.model_dump(mode="json", by_alias=True)


def _describe(error: ValidationError, as_flags: bool = False) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "value"
        if as_flags and item["loc"]:
            key = "--" + key.replace("_", "-")
        if item["type"] == "extra_forbidden":
            known = ", ".join(
                field.alias or name for name, field in TrainingConfig.model_fields.items()
            )
            problems.append(f"unknown key {key!r} (known: {known})")
        else:
            problems.append(f"{key}: {item['msg']} (got {item['input']!r})")
    return "; ".join(problems)


def resolve_config(environment: Environment, overrides: dict[str, Any]) -> TrainingConfig:
    """Defaults ← the environment's training section ← `overrides` (field names; None = unset)."""
    try:
        from_file = TrainingConfig.model_validate(environment.training)
    except ValidationError as error:
        raise TrainingError(f"{environment.path}: {PROJECT}:training: {_describe(error)}") from None
    flags = {name: value for name, value in overrides.items() if value is not None}
    try:
        return TrainingConfig.model_validate({**from_file.model_dump(), **flags})
    except ValidationError as error:
        raise TrainingError(f"command line: {_describe(error, as_flags=True)}") from None
