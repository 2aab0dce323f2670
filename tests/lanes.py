"""`make test`: the whole suite in two pytest processes that share this machine's CPUs.

The foreground lane (tests/conftest.py FOREGROUND_MARKERS: the cluster, the images, the server
processes whose latencies and load balance tests assert) runs at normal priority. The
background lane (rendering, unit and in-process tests, fuzzing, training) runs at nice 19 at
the same time: the kernel gives it the CPU time the foreground leaves idle while it waits for
pods, rollouts and probes, and takes it back whenever the foreground needs it.

`python -m tests.lanes [PYTEST_ARGS]` passes its arguments to both lanes. The exit code is
pytest's: 0 when both lanes pass, 5 when neither collected a test, 1 otherwise.
"""

import subprocess
import sys

from envconfig import REPO_ROOT

BACKGROUND_NICENESS = 19
BACKGROUND_LOG = REPO_ROOT / "build" / "test-background.log"
NO_TESTS_COLLECTED = 5


def pytest_command(lane: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "--lane", lane, *args]


def main(args: list[str]) -> int:
    BACKGROUND_LOG.parent.mkdir(parents=True, exist_ok=True)
    print(f"background lane at nice {BACKGROUND_NICENESS}: {BACKGROUND_LOG}", flush=True)
    with BACKGROUND_LOG.open("w") as log:
        background = subprocess.Popen(
            ["nice", "-n", str(BACKGROUND_NICENESS), *pytest_command("background", args)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            foreground = subprocess.run(pytest_command("foreground", args)).returncode
        except BaseException:
            background.terminate()
            background.wait()
            raise
        codes = {"foreground": foreground, "background": background.wait()}
    print(f"\n===== background lane ({BACKGROUND_LOG}) =====", flush=True)
    print(BACKGROUND_LOG.read_text(), flush=True)
    for lane, code in codes.items():
        print(f"{lane} lane: pytest exit code {code}")
    if all(code == NO_TESTS_COLLECTED for code in codes.values()):
        print("error: pytest collected no tests", file=sys.stderr)
        return NO_TESTS_COLLECTED
    return 0 if all(code in (0, NO_TESTS_COLLECTED) for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
