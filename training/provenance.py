"""Where a model came from: the code revision and the library versions that trained it."""

import hashlib
import platform
import subprocess
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from envconfig import REPO_ROOT


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def provenance() -> dict[str, Any]:
    """Git commit (and whether the tree had local changes) and the TF/Keras/Python versions."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def weights_sha256(model: keras.Model) -> str:
    """sha256 over the model's weight arrays in layer order: equal iff the weights are identical."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
