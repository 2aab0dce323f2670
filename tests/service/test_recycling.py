"""Worker recycling (max_requests) under keep-alive load loses no request, with one worker or two.

A short soak with wrk: 8 kept-alive connections, a recycle every ~MAX_REQUESTS requests, in
rounds until two recycles happened (a slow machine needs more rounds). The long soaks (10 and
30 minutes) are `python -m ops.bench.soak`.
"""

from pathlib import Path

import pytest

from ops.bench.load import run_wrk
from tests.service.conftest import served

pytestmark = [pytest.mark.service, pytest.mark.realtime]
MAX_REQUESTS = 1500
ROUND_SECONDS = 6
MAX_ROUNDS = 10


def recycles(log: Path) -> int:
    text = log.read_text()
    return text.count("recycling worker") + text.count("asking for a successor")


@pytest.mark.parametrize("workers", [1, 2])
def test_recycled_workers_drop_no_request(
    model_base: Path, tmp_path: Path, digit_images: dict[str, bytes], workers: int
) -> None:
    body = tmp_path / "digit.png"
    body.write_bytes(digit_images["9"])
    log = tmp_path / "gunicorn.log"
    failed = sent = rounds = 0
    with served(
        model_base,
        log,
        MODEL_BACKEND="litert",
        GUNICORN_WORKERS=str(workers),
        MAX_REQUESTS=str(MAX_REQUESTS),
    ) as server:
        while rounds < MAX_ROUNDS and recycles(log) < 2:
            result = run_wrk(server.url + "/predict", body, "image/png", 8, ROUND_SECONDS)
            failed += result.failed
            sent += round(result.requests_per_second * ROUND_SECONDS)
            rounds += 1
    seen = recycles(log)
    assert seen >= 2, f"only {seen} recycles in {rounds * ROUND_SECONDS}s: the soak proves nothing"
    assert failed == 0, f"{failed} failed of {sent}"
