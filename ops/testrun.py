"""`make test`: the whole suite as two pytest sessions side by side on this machine.

The foreground lane runs every test that uses the local cluster, runs a server or measures wall
time, at normal priority. The background lane runs the tests marked `background` (no server, no
wall-clock deadline, no cluster) at nice 10: it takes the CPU the foreground leaves idle while
it waits on the cluster (pods starting, rollouts, autoscaler windows). While a foreground test
marked `timed` (it asserts wall-clock behaviour under load) runs, the background lane is
stopped (SIGSTOP to its process group, SIGCONT after: tests/conftest.py), so nothing competes
with what it measures. The local model and its images are made first, so the lanes never wait
on each other for them.

Usage: python -m ops.testrun [PYTEST_ARGS...]   (passed to both lanes; a `-m EXPRESSION` among
them narrows each lane's own). The run fails when a lane fails or when neither collects a test.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from envconfig import REPO_ROOT
from imagebuild.build import build_environment
from training.ensure import ensure_trained

BACKGROUND = "background and not cluster"
FOREGROUND = "not background or cluster"
BACKGROUND_NICENESS = 10
BACKGROUND_LOG = REPO_ROOT / "build" / "test-background.log"
# The background lane's process group, for the foreground's `timed` tests to pause.
BACKGROUND_GROUP_VARIABLE = "IMAGE_CLASSIFIER_TEST_BACKGROUND_PGID"
NO_TESTS_COLLECTED = 5


def pytest_command(lane: str, extra: list[str]) -> list[str]:
    """pytest for one lane: the lane's marker expression, and with the caller's `-m` too."""
    arguments, selection = list(extra), lane
    if "-m" in arguments:
        at = arguments.index("-m")
        selection = f"({arguments[at + 1]}) and ({lane})"
        del arguments[at : at + 2]
    return [sys.executable, "-m", "pytest", "-m", selection, *arguments]


def failed(codes: dict[str, int]) -> bool:
    """Whether the lanes' pytest exit codes fail the run; says why on stderr."""
    for name, code in codes.items():
        if code not in (0, NO_TESTS_COLLECTED):
            print(f"error: the {name} lane failed (pytest exit code {code})", file=sys.stderr)
    if all(code == NO_TESTS_COLLECTED for code in codes.values()):
        print("error: pytest collected no tests in either lane", file=sys.stderr)
        return True
    return any(code not in (0, NO_TESTS_COLLECTED) for code in codes.values())


def run(extra: list[str], log: Path = BACKGROUND_LOG) -> int:
    started = time.monotonic()
    ensure_trained("local")
    build_environment("local")
    prepared = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"background lane ({BACKGROUND}, nice {BACKGROUND_NICENESS}): output in {log}")
    with log.open("w") as output:
        background = subprocess.Popen(
            ["nice", "-n", str(BACKGROUND_NICENESS), *pytest_command(BACKGROUND, extra)],
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        try:
            foreground = subprocess.run(
                pytest_command(FOREGROUND, extra),
                cwd=REPO_ROOT,
                env={**os.environ, BACKGROUND_GROUP_VARIABLE: str(background.pid)},
            ).returncode
            foreground_done = time.monotonic()
            background_code = background.wait()
        finally:
            if background.poll() is None:
                for stop in (signal.SIGCONT, signal.SIGTERM):
                    os.killpg(background.pid, stop)
                background.wait()
    print(f"\n===== background lane ({log}) =====", flush=True)
    print(log.read_text(), flush=True)
    print(
        f"make test: model and images {prepared - started:.0f}s, foreground lane "
        f"{foreground_done - prepared:.0f}s, all {time.monotonic() - started:.0f}s"
    )
    return 1 if failed({"foreground": foreground, "background": background_code}) else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
