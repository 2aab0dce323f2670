"""Publish a model version atomically: build it in a hidden directory, then rename it into place."""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelartifact import ModelMetadata, file_hashes, published_versions, write_metadata
from modelartifact.signing import sign_version
from training.errors import TrainingError


@contextmanager
def staging_dir(root: Path) -> Iterator[Path]:
    """A fresh hidden directory beside the versions in `root`; removed unless it was published."""
    staging = root / f".partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(
    staging: Path, root: Path, facts: dict[str, Any], signing_key: Ed25519PrivateKey
) -> Path:
    """Stamp the next version and every file's sha256 into metadata.json, sign it with
    `signing_key` (metadata.json.sig), then rename the version into place.

    The metadata is validated against the artifact's schema first, so no reader ever finds a
    published version it cannot read.
    """
    versions = published_versions(root)
    version = versions[-1] + 1 if versions else 1
    metadata = ModelMetadata.model_validate(
        {**facts, "version": version, "files": file_hashes(staging)}
    )
    write_metadata(staging, metadata)
    sign_version(staging, signing_key)
    target = root / str(version)
    try:
        staging.rename(target)
    except OSError as error:
        raise TrainingError(
            f"cannot publish {target}: {error.strerror} (another run took it?)"
        ) from None
    return target
