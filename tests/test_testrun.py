"""`make test`'s two lanes: every test lands in exactly one, and a lane that collects nothing
fails the run with a message naming it."""

import subprocess
import sys
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from ops import testrun

pytestmark = [pytest.mark.unit, pytest.mark.background]


def collected(*selection: str) -> list[str]:
    """The test ids pytest collects with `selection` (e.g. `-m EXPRESSION`), without their
    parameters (some are random bytes, drawn anew at each collection)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *selection],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line.split("[")[0] for line in result.stdout.splitlines() if "::" in line]


def test_the_lanes_split_the_suite_and_cluster_tests_stay_in_the_foreground() -> None:
    background = collected("-m", testrun.BACKGROUND)
    foreground = collected("-m", testrun.FOREGROUND)
    assert background and foreground and not set(background) & set(foreground)
    assert sorted(background + foreground) == sorted(collected())
    assert any("tests/e2e/" in test for test in foreground)
    assert not any("tests/e2e/" in test or "tests/cluster/" in test for test in background)


def test_a_lane_that_collects_nothing_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = testrun.run(["-k", "no_test_has_this_name", "-p", "no:cacheprovider"], tmp_path / "log")
    said = capsys.readouterr().err
    assert code == 1
    assert "the foreground lane collected no tests" in said
    assert "the background lane collected no tests" in said
