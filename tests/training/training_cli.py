"""Run `python -m training` for real, in a fresh process, as a person would."""

import subprocess
import sys

from envconfig import REPO_ROOT


def run_training(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m training ARGS` from the repo root, niced, output captured."""
    return subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "training", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
