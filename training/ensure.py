"""Train an environment's model only when none is published yet (`make serve|up|bench`, tests)."""

import fcntl
import subprocess
import sys
from pathlib import Path

from envconfig import REPO_ROOT
from modelartifact import (
    SIGNATURE_FILE,
    environment_base,
    latest_version_dir,
    model_dir,
    read_metadata,
)

MODELS_DIR = REPO_ROOT / "models"


def latest_trained(env: str, models_dir: Path = MODELS_DIR) -> Path | None:
    """`env`'s newest published version directory under `models_dir`, if there is one."""
    return latest_version_dir(model_dir(environment_base(models_dir, env)))


def ensure_trained(env: str, models_dir: Path = MODELS_DIR) -> Path:
    """`env`'s newest published version directory, training it first if there is none or the
    newest is out of date (see `current`).

    Callers running side by side never both train: the first trains, the others wait for it.
    Raises subprocess.CalledProcessError when the training fails (it has printed why).
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / f".{env}-train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        latest = latest_trained(env, models_dir)
        if latest is None or not current(latest):
            print(f"no current {env} model under {models_dir / env}: training one", file=sys.stderr)
            training = ["-m", "training", "--env", env, "--models-dir", str(models_dir)]
            subprocess.run([sys.executable, *training], cwd=REPO_ROOT, check=True)
        version_dir = latest_trained(env, models_dir)
    if version_dir is None:
        raise RuntimeError(f"training {env} published nothing under {models_dir / env}")
    return version_dir


def current(version_dir: Path) -> bool:
    """Whether a published version has what today's readers need: a signature (images take
    signed versions only) and its bfloat16 and OpenVINO int8 accuracies (the gates of the
    tensorflow-bf16 and openvino backends)."""
    if not (version_dir / SIGNATURE_FILE).is_file():
        return False
    metadata = read_metadata(version_dir)
    return (
        metadata.saved_model.bf16_accuracy is not None
        and metadata.litert.int8.openvino_accuracy is not None
    )


def trained_or_exit(env: str, models_dir: Path = MODELS_DIR) -> Path:
    """ensure_trained for a command: a failed training has printed why, so the command exits
    with its status and no traceback."""
    try:
        return ensure_trained(env, models_dir)
    except subprocess.CalledProcessError as error:
        raise SystemExit(error.returncode) from None
