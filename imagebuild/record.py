"""The build record `build/images/<env>.json`: what the Pulumi program and `make up` deploy."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from envconfig import REPO_ROOT

RECORDS_DIR = REPO_ROOT / "build" / "images"


@dataclass(frozen=True)
class ImageInfo:
    """One built image: how to reference it (by digest, too) and where its archive is."""

    reference: str
    repository: str
    tag: str
    # Manifest digest in podman's storage: `repository@digest` runs the image here.
    digest: str
    # Manifest digest inside the OCI archive (gzip layers): what a registry holds once the
    # archive is copied there unchanged (`skopeo copy oci-archive:ARCHIVE docker://…`).
    archive_digest: str
    image_id: str
    backend: str
    model_version: str
    size_bytes: int
    archive: str


@dataclass(frozen=True)
class ImageRecord:
    """Both images of one environment and the hash of the inputs they were built from."""

    environment: str
    revision: str
    inputs_sha256: str
    image: ImageInfo
    slim: ImageInfo

    def to_json(self) -> dict[str, Any]:
        """The TensorFlow image's fields at the top level, the slim image's under "slim"."""
        return {
            "environment": self.environment,
            **asdict(self.image),
            "revision": self.revision,
            "inputs_sha256": self.inputs_sha256,
            "slim": asdict(self.slim),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ImageRecord":
        """Inverse of to_json."""
        fields = ImageInfo.__dataclass_fields__
        return cls(
            environment=data["environment"],
            revision=data["revision"],
            inputs_sha256=data["inputs_sha256"],
            image=ImageInfo(**{name: data[name] for name in fields}),
            slim=ImageInfo(**data["slim"]),
        )


class RecordError(RuntimeError):
    """A missing or unreadable record; the message says how to make one."""


def record_path(env: str) -> Path:
    """Where the record of `env` lives."""
    return RECORDS_DIR / f"{env}.json"


def read_record(env: str) -> ImageRecord:
    """Load the record of `env`, or say which command writes it."""
    path = record_path(env)
    try:
        return ImageRecord.from_json(json.loads(path.read_text()))
    except FileNotFoundError as error:
        raise RecordError(f"no image record {path}: run `make image ENV={env}`") from error
    except (ValueError, KeyError, TypeError) as error:
        raise RecordError(
            f"{path}: not an image record ({error}); rerun `make image ENV={env}`"
        ) from error


def write_record(record: ImageRecord) -> Path:
    """Write the record; an identical one is left untouched (its mtime too)."""
    path = record_path(record.environment)
    text = json.dumps(record.to_json(), indent=2) + "\n"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path
