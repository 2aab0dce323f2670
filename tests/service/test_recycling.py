"""Worker recycling (max_requests) under keep-alive load loses no request, with one worker or two.

A short soak with wrk: 8 kept-alive connections, a recycle every ~MAX_REQUESTS requests. The
long soaks (10 and 30 minutes) are `python -m ops.bench.soak`.
"""

from pathlib import Path

import pytest

from ops.bench.load import run_wrk
from tests.service.conftest import served

pytestmark = pytest.mark.service
MAX_REQUESTS = 1500
SECONDS = 12


@pytest.mark.parametrize("workers", [1, 2])
def test_recycled_workers_drop_no_request(
    model_base: Path, tmp_path: Path, digit_images: dict[str, bytes], workers: int
) -> None:
    body = tmp_path / "digit.png"
    body.write_bytes(digit_images["9"])
    log = tmp_path / "gunicorn.log"
    with served(
        model_base,
        log,
        MODEL_BACKEND="litert",
        GUNICORN_WORKERS=str(workers),
        MAX_REQUESTS=str(MAX_REQUESTS),
    ) as server:
        result = run_wrk(server.url + "/predict", body, "image/png", 8, SECONDS)
    recycles = log.read_text().count("recycling worker") + log.read_text().count(
        "asking for a successor"
    )
    assert recycles >= 2, f"only {recycles} recycles in {SECONDS}s: the soak proves nothing"
    assert result.failed == 0, f"{result.failed} failed of {result.requests_per_second * SECONDS}"
