"""Publish a model version atomically: build it in a hidden directory, then rename it into place."""

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from training.artifacts import METADATA_FILE, file_hashes, published_versions
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


def publish(staging: Path, root: Path, metadata: dict[str, Any]) -> Path:
    """Stamp the next version and every file's sha256 into metadata.json, then rename into place."""
    versions = published_versions(root)
    version = versions[-1] + 1 if versions else 1
    content = {**metadata, "version": version, "files": file_hashes(staging)}
    (staging / METADATA_FILE).write_text(json.dumps(content, indent=2, sort_keys=False) + "\n")
    target = root / str(version)
    try:
        staging.rename(target)
    except OSError as error:
        raise TrainingError(
            f"cannot publish {target}: {error.strerror} (another run took it?)"
        ) from None
    return target
