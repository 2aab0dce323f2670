"""The image record `build/images/<env>.json`: the schema imagebuild writes and infra/ reads.

It says which image to release and how it is pinned; the Pulumi program (infra/config.py) and
`make up` read it through this module, so writer and readers share one definition.
"""

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from envconfig import REPO_ROOT
from modelartifact import ModelVersion, as_accurate
from service.settings import Backend as ModelBackend

RECORDS_DIR = REPO_ROOT / "build" / "images"

Digest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
# The Containerfile's BACKEND: TensorFlow CPU, or the slim image (LiteRT and OpenVINO, for the
# int8 model).
Backend = Literal["tensorflow", "litert"]


class ModelKeys(BaseModel):
    """How the image's model is protected: the public key the release verifies its signature
    with, and the ids (never the keys) of the signing and data keys it was built with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public_key: str = Field(pattern=r"^-----BEGIN PUBLIC KEY-----\n")
    signing_key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    data_key_id: str = Field(pattern=r"^[0-9a-f]{16}$")


class ImageInfo(BaseModel):
    """One built image: how to reference it (by digest, too) and where its archive is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # `repository:tag`; a record whose parts disagree with it is refused.
    reference: str
    repository: str = Field(pattern=r"^[^:@\s]+(:[0-9]+)?/[^:@\s]+$")
    tag: str = Field(pattern=r"^[\w][\w.-]{0,127}$")
    # Manifest digest in podman's storage: `repository@digest` runs the image here.
    digest: Digest
    # Manifest digest inside the OCI archive (zstd layers): what a registry holds once the
    # archive is copied there unchanged (`skopeo copy oci-archive:ARCHIVE docker://…`).
    archive_digest: Digest
    image_id: str
    backend: Backend
    model_version: ModelVersion
    model_keys: ModelKeys
    size_bytes: int = Field(ge=0)
    archive: str
    # CycloneDX SBOM beside the record: Debian and Python packages, the model version.
    sbom: str

    @model_validator(mode="after")
    def _reference_is_repository_and_tag(self) -> "ImageInfo":
        if self.reference != f"{self.repository}:{self.tag}":
            raise ValueError(
                f"reference {self.reference!r} is not repository:tag "
                f"({self.repository!r}, {self.tag!r})"
            )
        return self


class ModelAccuracy(BaseModel):
    """Held-out test accuracy of the images' model as training measured it: the SavedModel in
    float32 (what the TensorFlow image serves, bfloat16 only within tolerance of it) and the
    int8 model as LiteRT runs it (what the slim image serves, with OpenVINO or LiteRT)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    float32: float = Field(ge=0, le=1)
    int8: float = Field(ge=0, le=1)


class ImageRecord(BaseModel):
    """Both images of one environment and the hash of the inputs they were built from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: str
    revision: str
    inputs_sha256: str
    accuracy: ModelAccuracy
    image: ImageInfo
    slim: ImageInfo

    def serving(self, model_backend: str) -> ImageInfo:
        """The image to release for the chart's `model.backend` (MODEL_BACKEND): the
        TensorFlow one for tensorflow and tensorflow-bf16, the slim one for litert and
        openvino. Empty (the image's own backend) takes the fastest accurate one: the slim
        image (the int8 model, two to four times TensorFlow's throughput) when its model is as
        accurate as float32, else the TensorFlow one. ValueError for any other backend."""
        if not model_backend:
            int8_accurate = as_accurate(self.accuracy.int8, self.accuracy.float32)
            return self.slim if int8_accurate else self.image
        try:
            backend = ModelBackend(model_backend)
        except ValueError:
            known = ", ".join(repr(b.value) for b in ModelBackend)
            raise ValueError(f"unknown model backend {model_backend!r}; one of {known}") from None
        int8 = backend in (ModelBackend.LITERT, ModelBackend.OPENVINO)
        return self.slim if int8 else self.image

    def to_json(self) -> dict[str, Any]:
        """The TensorFlow image's fields at the top level, the slim image's under "slim"."""
        return {
            "environment": self.environment,
            **self.image.model_dump(mode="json"),
            "revision": self.revision,
            "inputs_sha256": self.inputs_sha256,
            "accuracy": self.accuracy.model_dump(mode="json"),
            "slim": self.slim.model_dump(mode="json"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ImageRecord":
        """Inverse of to_json; raises pydantic's ValidationError naming the bad fields."""
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        top = {name: value for name, value in data.items() if name not in ImageInfo.model_fields}
        image = {name: value for name, value in data.items() if name in ImageInfo.model_fields}
        return cls.model_validate({**top, "image": image})


class RecordError(RuntimeError):
    """A missing or unreadable record; the message says which file and how to make one."""


def record_path(env: str) -> Path:
    """Where the record of `env` lives."""
    return RECORDS_DIR / f"{env}.json"


def load_record(path: Path) -> ImageRecord:
    """Parse and check the record at `path`."""
    try:
        return ImageRecord.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise RecordError(f"no image record at {path}") from None
    except (ValueError, TypeError) as error:
        raise RecordError(f"{path}: not a valid image record: {error}") from None


def read_record(env: str) -> ImageRecord:
    """Load the record of `env`, or say which command writes it."""
    try:
        return load_record(record_path(env))
    except RecordError as error:
        raise RecordError(f"{error}; run `make image ENV={env}`") from None


def write_record(record: ImageRecord) -> Path:
    """Write the record; an identical one is left untouched (its mtime too)."""
    path = record_path(record.environment)
    text = json.dumps(record.to_json(), indent=2) + "\n"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path
