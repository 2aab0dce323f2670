"""Service settings: read once from environment variables into a typed, validated object."""

import os
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Backend(str, Enum):
    """Which runtime executes the model."""

    TENSORFLOW = "tensorflow"
    LITERT = "litert"


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
    batch_max_size: Annotated[int, Field(ge=1, le=1024)] = 16
    batch_timeout_ms: Annotated[float, Field(ge=0, le=10_000)] = 5
    batch_queue_capacity: PositiveInt = 256
    max_request_bytes: PositiveInt = 10 * 1024 * 1024
    auth_token_file: Path | None = None
    log_level: LogLevel = LogLevel.INFO
    gunicorn_workers: Annotated[int, Field(ge=1, le=64)] = 1
    gunicorn_threads: Annotated[int, Field(ge=1, le=256)] = 8
    graceful_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 20

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
            problems = "; ".join(
                f"{str(e['loc'][0]).upper()}={raw.get(str(e['loc'][0]))!r}: {e['msg']}"
                for e in error.errors()
            )
            raise SettingsError(f"invalid service environment: {problems}") from None

    def auth_token(self) -> str | None:
        """The bearer token from AUTH_TOKEN_FILE, or None when auth is off."""
        if self.auth_token_file is None:
            return None
        try:
            token = self.auth_token_file.read_text().strip()
        except OSError as error:
            raise SettingsError(
                f"AUTH_TOKEN_FILE={self.auth_token_file}: cannot read: {error}"
            ) from None
        if not token:
            raise SettingsError(f"AUTH_TOKEN_FILE={self.auth_token_file}: the file is empty")
        return token
