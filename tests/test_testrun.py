"""`make test`'s two lanes: every test lands in exactly one, a `-m` selection narrows both, a
run that collects nothing fails with a message saying so, and a `timed` test stops the
background lane while it runs."""

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from ops import testrun
from tests.conftest import pytest_runtest_call

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


def test_a_run_that_collects_nothing_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = testrun.run(["-k", "no_test_has_this_name", "-p", "no:cacheprovider"], tmp_path / "log")
    assert code == 1
    assert "pytest collected no tests in either lane" in capsys.readouterr().err


def test_a_marker_selection_narrows_each_lane_and_one_empty_lane_is_fine(tmp_path: Path) -> None:
    # Only the background lane has records tests: the foreground one collects nothing.
    selection = ["-m", "unit", "-k", "test_written_record_reads_back", "-p", "no:cacheprovider"]
    assert testrun.run(selection, tmp_path / "log") == 0
    assert "1 passed" in (tmp_path / "log").read_text()


class TimedItem:
    """As much of a pytest item as the pause hook reads: a test marked `timed`."""

    def get_closest_marker(self, name: str) -> object | None:
        return pytest.mark.timed.mark if name == "timed" else None


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_timed_test_runs_with_the_background_lane_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = subprocess.Popen(["sleep", "60"], process_group=0)
    try:
        monkeypatch.setenv(testrun.BACKGROUND_GROUP_VARIABLE, str(lane.pid))
        call = pytest_runtest_call(TimedItem())  # type: ignore[arg-type]
        next(call)  # the test's call runs now
        assert process_state(lane.pid) == "T"
        with contextlib.suppress(StopIteration):
            next(call)  # the call has returned
        assert process_state(lane.pid) != "T"
    finally:
        lane.kill()
        lane.wait()
