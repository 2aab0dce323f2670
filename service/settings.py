"""Service settings: read once from environment variables into a typed, validated object."""

import os
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails


class Backend(str, Enum):
    """Which runtime executes the model."""

    TENSORFLOW = "tensorflow"
    TENSORFLOW_BF16 = "tensorflow-bf16"  # the same SavedModel, bfloat16 inference
    LITERT = "litert"
    OPENVINO = "openvino"  # the same int8 .tflite file as litert, run by OpenVINO


class LogLevel(str, Enum):
    """Log levels accepted in LOG_LEVEL."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class SettingsError(ValueError):
    """A service environment variable is missing its expected form; the message names it."""


PositiveInt = Annotated[int, Field(ge=1)]


class Settings(BaseModel):
    """Everything the service reads from its environment, with the documented defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    model_base_path: Path = Path("/models")
    model_name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")] = (
        "image-classifier"
    )
    model_version: PositiveInt | None = None
    model_backend: Backend = Backend.TENSORFLOW
    # Model integrity (modelartifact): with a public key (PEM) the signature of metadata.json is
    # always checked; an encrypted model needs its data key (base64). Every image sets
    # MODEL_REQUIRE_SIGNATURE=true; false (the default for runs on the host: make serve, bench)
    # is what lets an unsigned model load when no public key is given.
    model_public_key_file: Path | None = None
    model_key_file: Path | None = None
    model_require_signature: bool = False
    batch_max_size: Annotated[int, Field(ge=1, le=1024)] = 16
    batch_timeout_ms: Annotated[float, Field(ge=0, le=10_000)] = 5
    batch_queue_capacity: PositiveInt = 256
    # Limits, each checked before the work it bounds. The worst request each admits, measured
    # with `python -m ops.bench.limits` (one request in-process, 2 shared CPUs): a binary body at
    # MAX_REQUEST_BYTES 0.13 CPU-s, +21 MiB; JSON at MAX_JSON_BYTES 0.24 CPU-s (numbers) or
    # +54 MiB (empty objects); one image at MAX_IMAGE_PIXELS (4096 x 4096) 0.22 CPU-s, +96 MiB;
    # MAX_REQUEST_PIXELS (three such images, decoded one at a time) 0.71 CPU-s, +96 MiB. Each
    # of a worker's GUNICORN_THREADS threads holds at most one such request.
    max_request_bytes: PositiveInt = 10 * 1024 * 1024
    max_json_bytes: PositiveInt = 2 * 1024 * 1024
    max_image_pixels: PositiveInt = 4096 * 4096
    max_request_pixels: PositiveInt = 3 * 4096 * 4096
    request_deadline_ms: Annotated[int, Field(ge=10, le=600_000)] = 5000
    header_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 5
    body_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30
    auth_token_file: Path | None = None
    auth_clients_file: Path | None = None  # named clients (service.clients); both may be set
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    log_level: LogLevel = LogLevel.INFO
    gunicorn_workers: Annotated[int, Field(ge=1, le=64)] | None = None  # None: one per CPU
    gunicorn_threads: Annotated[int, Field(ge=1, le=256)] = 8
    graceful_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 20
    max_requests: Annotated[int, Field(ge=0)] = 100_000  # 0: never recycle a worker

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Parse the upper-case variables (e.g. BATCH_MAX_SIZE); empty values mean the default."""
        environ = os.environ if environ is None else environ
        raw = {
            name: environ[name.upper()]
            for name in cls.model_fields
            if environ.get(name.upper(), "").strip() != ""
        }
        if "model_backend" in raw:
            raw["model_backend"] = raw["model_backend"].lower()
        if "log_level" in raw:
            raw["log_level"] = raw["log_level"].lower()
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(_describe(e, raw) for e in error.errors())
            raise SettingsError(f"invalid service environment: {problems}") from None

    @model_validator(mode="after")
    def _metrics_port_is_its_own(self) -> "Settings":
        if self.metrics_port == self.port:
            raise ValueError(f"METRICS_PORT={self.metrics_port} is PORT too: give another port")
        if self.max_json_bytes > self.max_request_bytes:
            raise ValueError(
                f"MAX_JSON_BYTES={self.max_json_bytes} exceeds MAX_REQUEST_BYTES="
                f"{self.max_request_bytes}: JSON is capped at or below the binary limit"
            )
        return self


def _describe(error: ErrorDetails, raw: Mapping[str, str]) -> str:
    if not error["loc"]:  # a rule across variables: its message names them
        return error["msg"].removeprefix("Value error, ")
    name = str(error["loc"][0])
    return f"{name.upper()}={raw.get(name)!r}: {error['msg']}"
