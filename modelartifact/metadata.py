"""`metadata.json` of a model version: the schema training writes and every reader validates.

The keys the readers rely on (name, classes, input, the accuracies, the LiteRT files, the
checksums) are typed here; the facts of a training run (dataset, metrics, training) are
training's to shape.
"""

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelartifact.errors import ArtifactError
from modelartifact.layout import METADATA_FILE
from modelartifact.quantization import Quantization

# A published version: the integer name of its directory, as TF Serving numbers them.
ModelVersion = Annotated[int, Field(ge=1)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# "Equal accuracy" (issue 15): at most 0.5 percentage points of test accuracy below float32.
# The service's tensorflow-bf16 backend, the release's choice of image and the bench's
# candidate backends all judge a faster precision by it.
ACCURACY_TOLERANCE = 0.005


def as_accurate(accuracy: float, float32_accuracy: float) -> bool:
    """Whether `accuracy` is within ACCURACY_TOLERANCE of the float32 model's (a drop of
    exactly the tolerance counts as within it, float rounding aside)."""
    return float32_accuracy - accuracy <= ACCURACY_TOLERANCE + 1e-9


class InputSpec(BaseModel):
    """The image the model takes: height x width x 3, preprocessed as described."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    height: int = Field(ge=1)
    width: int = Field(ge=1)
    channels: Literal[3]
    preprocessing: str


class SavedModelFacts(BaseModel):
    """The SavedModel's size and its test accuracy, in float32 and with bfloat16 inference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parameters: int = Field(ge=1)
    float32_weights_bytes: int = Field(ge=1)
    accuracy: float
    # Under modelartifact.precision's bfloat16 switch; None in versions from before it was
    # measured, which the service's tensorflow-bf16 backend refuses.
    bf16_accuracy: float | None = None


class TensorSpec(BaseModel):
    """A .tflite model's input or output tensor; an int8 one with its quantization."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    dtype: str
    shape: list[int | None]
    scale: float | None = None
    zero_point: int | None = None

    def quantization(self) -> Quantization:
        """The tensor's (scale, zero point); ValueError if it is not quantized."""
        if self.scale is None or self.zero_point is None:
            raise ValueError(f"tensor {self.name!r} ({self.dtype}) is not quantized")
        return Quantization(self.scale, self.zero_point)


class LiteRTVariant(BaseModel):
    """One .tflite file beside the SavedModel and what training measured of it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    file: str = Field(min_length=1)
    bytes: int = Field(ge=1)
    accuracy: float
    signature: str
    input: TensorSpec
    output: TensorSpec
    # The int8 file's test accuracy run by OpenVINO (the service's openvino backend); None in
    # the other variants and in versions from before it was measured.
    openvino_accuracy: float | None = None


class LiteRTVariants(BaseModel):
    """The LiteRT conversions every version carries; the service's litert and openvino
    backends run int8."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    float16: LiteRTVariant
    int8: LiteRTVariant
    pruned: LiteRTVariant


class ModelMetadata(BaseModel):
    """Every key of metadata.json, in the order training writes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    environment: str
    created: str
    classes: list[str] = Field(min_length=1)
    input: InputSpec
    signatures: dict[str, Any]
    saved_model: SavedModelFacts
    litert: LiteRTVariants
    dataset: dict[str, Any]
    metrics: dict[str, Any]
    eval: dict[str, str]
    training: dict[str, Any]
    version: ModelVersion
    # Relative path -> sha256 of every other file of the version directory.
    files: dict[str, Sha256] = Field(min_length=1)


def read_metadata(version_dir: Path) -> ModelMetadata:
    """Parse and validate a version directory's metadata.json; errors name the file and key."""
    path = version_dir / METADATA_FILE
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ArtifactError(f"{path}: cannot read metadata: {error}") from None
    return parse_metadata(content, path)


def parse_metadata(content: bytes, path: Path) -> ModelMetadata:
    """Validate metadata.json's bytes (read once, so the bytes parsed are the bytes verified)."""
    try:
        document = json.loads(content)
    except ValueError as error:
        raise ArtifactError(f"{path}: cannot read metadata: {error}") from None
    try:
        return ModelMetadata.model_validate(document)
    except ValidationError as error:
        raise ArtifactError(_describe(path, error)) from None


def write_metadata(version_dir: Path, metadata: ModelMetadata) -> Path:
    """Write metadata.json into a version directory."""
    path = version_dir / METADATA_FILE
    path.write_text(metadata.model_dump_json(indent=2) + "\n")
    return path


def _describe(path: Path, error: ValidationError) -> str:
    problems = [
        f"'{'.'.join(str(part) for part in problem['loc'])}': {problem['msg']}"
        for problem in error.errors()
    ]
    return f"{path}: not model metadata: " + "; ".join(problems)
