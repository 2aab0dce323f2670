"""The image record `python -m imagebuild --env ENV` writes: which image to release, pinned."""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ImageRecordError(ValueError):
    """The record is missing or does not describe a digest-pinned image."""


class ImageRecord(BaseModel):
    """`build/images/<env>.json`; only the fields the release needs are read."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reference: str = Field(pattern=r"^[^:@\s]+(:[0-9]+)?/[^:@\s]+:[\w][\w.-]{0,127}$")
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    model_version: int = Field(ge=1)

    @property
    def repository(self) -> str:
        """`localhost/image-classifier` from `localhost/image-classifier:prod-3-abc1234`."""
        return self.reference.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        """`prod-3-abc1234` from `localhost/image-classifier:prod-3-abc1234`."""
        return self.reference.rsplit(":", 1)[1]


def load_image_record(path: Path) -> ImageRecord:
    """Parse and check the record at `path`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ImageRecordError(f"no image record at {path}") from None
    try:
        return ImageRecord.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as error:
        raise ImageRecordError(f"{path}: not a valid image record: {error}") from None
