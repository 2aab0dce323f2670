"""`make setup` and `make bench` say what they are doing, how long each stage should take and
what is left, and which stage failed."""

import io

import pytest

from ops.progress import Progress

pytestmark = pytest.mark.unit


def test_a_line_per_stage_with_its_estimate_and_the_rest() -> None:
    out = io.StringIO()
    progress = Progress({"service": 90, "peers": 300, "roofline": 60}, out)
    with progress.stage("service"):
        pass
    with progress.stage("peers"):
        pass
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/3] service: about 90 s (about 8 min left in all)"
    assert lines[1].startswith("[1/3] service: done in 0 s")
    assert lines[2] == "[2/3] peers: about 5 min (about 6 min left in all)"


def test_a_failed_stage_says_so_and_the_error_goes_on() -> None:
    out = io.StringIO()
    progress = Progress({"etcd 3.6": 85, "helm": 367}, out, prefix="[setup] ")
    with pytest.raises(RuntimeError, match="go build failed"), progress.stage("etcd 3.6"):
        raise RuntimeError("go build failed")
    lines = out.getvalue().splitlines()
    assert lines == [
        "[setup] [1/2] etcd 3.6: about 85 s (about 8 min left in all)",
        "[setup] [1/2] etcd 3.6: FAILED after 0 s",
    ]
