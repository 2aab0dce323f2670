"""Run `python -m training` for real, in a fresh process, as a person would."""

import subprocess
import sys

from envconfig import REPO_ROOT

TIMEOUT_SECONDS = 300


def start_training(*args: str) -> subprocess.Popen[str]:
    """Start `python -m training ARGS` from the repo root, niced, output captured."""
    return subprocess.Popen(
        ["nice", "-n", "10", sys.executable, "-m", "training", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_training(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """Wait for a started training; its exit code and output."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_training(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m training ARGS` to its end."""
    return finish_training(start_training(*args))
