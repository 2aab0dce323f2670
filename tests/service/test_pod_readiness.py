"""A fresh server reports ready only once every gunicorn worker has its model: a probe reaches
one worker, and a sibling still loading would answer the pod's first clients 503."""

import os
import signal
import time
from pathlib import Path

import pytest

from ops.bench.server import Server, start_server
from tests.service.conftest import READY_TIMEOUT, workers_with_a_model

pytestmark = pytest.mark.service
WORKERS = 2
NOT_READY_CHECKS = 20


def forked_workers(server: Server, count: int) -> list[int]:
    """The master's workers as soon as `count` of them exist."""
    deadline = time.monotonic() + READY_TIMEOUT
    while len(workers := server.worker_pids()) < count:
        assert time.monotonic() < deadline, f"{count} workers not forked:\n{server.tail()}"
        time.sleep(0.005)
    return workers


def test_ready_only_once_every_worker_has_its_model(model_base: Path, tmp_path: Path) -> None:
    # TensorFlow's import takes seconds: the sibling is stopped long before it loads a model.
    log = tmp_path / "gunicorn.log"
    with start_server(model_base, log, GUNICORN_WORKERS=str(WORKERS)) as server:
        sibling = forked_workers(server, WORKERS)[-1]
        os.kill(sibling, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while (
                server.get("/v2/health/live").status_code != 200
                or not server.get("/v2/models/image-classifier/ready").ok
            ):
                assert time.monotonic() < deadline, f"no worker loaded:\n{server.tail()}"
                time.sleep(0.05)
            assert workers_with_a_model(server) == 1
            for _ in range(NOT_READY_CHECKS):
                probe = server.get("/v2/health/ready")
                assert probe.status_code == 503, probe.text
                assert probe.json() == {"ready": False, "state": "AVAILABLE"}
                time.sleep(0.05)
        finally:
            os.kill(sibling, signal.SIGCONT)
        # Ready, whichever worker answered; remembered by the server, not by that worker.
        server.wait_until("/v2/health/ready", 200, READY_TIMEOUT)
        assert workers_with_a_model(server) == WORKERS
        # The pod stays ready while a replacement worker loads, also once the master has
        # reaped the dead sibling and dropped its model from the count.
        os.kill(sibling, signal.SIGKILL)
        deadline = time.monotonic() + READY_TIMEOUT
        while sibling in server.worker_pids():
            assert time.monotonic() < deadline, f"the sibling was not reaped:\n{server.tail()}"
            time.sleep(0.01)
        for _ in range(NOT_READY_CHECKS):
            assert server.get("/v2/health/ready").status_code == 200
            time.sleep(0.05)
