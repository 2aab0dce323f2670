"""`make bench` says what it is doing, how long each stage should take and what is left."""

import io

import pytest

from ops.bench.progress import Progress

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
