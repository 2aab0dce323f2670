"""The Batcher on its own: joining jobs, lone jobs, failures, deadlines, queue cap, priority."""

import os
import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest

from service.batching import MODEL_THREAD_NICE, Batcher, DeadlineExceeded, QueueFullError

pytestmark = [pytest.mark.service, pytest.mark.realtime]
WAIT_S = 10


class Recorder:
    """BatchObserver that keeps every batch size; raises on the first one if asked to."""

    def __init__(self, fail_once: bool = False) -> None:
        self.sizes: list[int] = []
        self._fail = fail_once

    def batch_done(self, size: int, queue_seconds: list[float], inference_seconds: float) -> None:
        self.sizes.append(size)
        if self._fail:
            self._fail = False
            raise RuntimeError("observer bug")


class GatedModel:
    """predict() doubles its rows; the first call blocks until `release` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.niceness: list[int] = []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.entered.set()
        assert self.release.wait(WAIT_S)
        if np.isnan(batch).any():
            raise ValueError("NaN row")
        return batch.reshape(len(batch), -1) * 2


def rows(*values: float) -> np.ndarray:
    return np.array(values, np.float32).reshape(len(values), 1)


def start(model: GatedModel, recorder: Recorder, capacity: int = 16) -> Batcher:
    return Batcher(model.predict, 8, WAIT_S, capacity, recorder).start()


def result(future: "Future[np.ndarray]") -> list[float]:
    return future.result(WAIT_S).ravel().tolist()


def test_jobs_queued_during_a_model_call_share_the_next_one() -> None:
    model, recorder = GatedModel(), Recorder()
    batcher = start(model, recorder)
    first = batcher.submit(rows(1))
    assert model.entered.wait(WAIT_S)
    queued = [batcher.submit(rows(2, 3)), batcher.submit(rows(4)), batcher.submit(rows(5))]
    model.release.set()
    assert result(first) == [2]
    assert [result(f) for f in queued] == [[4, 6], [8], [10]]
    assert recorder.sizes == [1, 4]


def test_a_lone_job_runs_without_waiting_for_the_timeout() -> None:
    model, recorder = GatedModel(), Recorder()
    model.release.set()
    batcher = start(model, recorder)
    with batcher.expecting():
        future = batcher.submit(rows(7))
        # WAIT_S is also the batch timeout: waiting for it would fail this result() call.
        assert result(future) == [14]
    assert recorder.sizes == [1]


def test_a_failed_model_call_fails_its_jobs_and_the_thread_goes_on() -> None:
    model, recorder = GatedModel(), Recorder()
    model.release.set()
    batcher = start(model, recorder)
    with pytest.raises(ValueError, match="NaN row"):
        batcher.submit(rows(np.nan)).result(WAIT_S)
    assert result(batcher.submit(rows(1))) == [2]


def test_a_full_queue_refuses_new_jobs() -> None:
    model, recorder = GatedModel(), Recorder()
    batcher = start(model, recorder, capacity=1)
    batcher.submit(rows(1))
    assert model.entered.wait(WAIT_S)
    waiting = batcher.submit(rows(2))
    with pytest.raises(QueueFullError, match="queue is full"):
        batcher.submit(rows(3))
    model.release.set()
    assert result(waiting) == [4]


def test_the_model_thread_runs_at_the_lowest_cpu_priority() -> None:
    model, recorder = GatedModel(), Recorder()
    model.release.set()
    result(start(model, recorder).submit(rows(1)))
    assert model.niceness == [MODEL_THREAD_NICE]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < MODEL_THREAD_NICE


def test_jobs_past_their_deadline_or_withdrawn_are_not_run() -> None:
    model, recorder = GatedModel(), Recorder()
    batcher = start(model, recorder)
    first = batcher.submit(rows(1))
    assert model.entered.wait(WAIT_S)
    late = batcher.submit(rows(2), deadline=time.monotonic())
    withdrawn = batcher.submit(rows(3))
    assert withdrawn.cancel()
    on_time = batcher.submit(rows(4), deadline=time.monotonic() + WAIT_S)
    model.release.set()
    assert result(first) == [2] and result(on_time) == [8]
    with pytest.raises(DeadlineExceeded):
        late.result(WAIT_S)
    assert recorder.sizes == [1, 1]


def test_the_model_thread_survives_an_unexpected_error() -> None:
    model, recorder = GatedModel(), Recorder(fail_once=True)
    model.release.set()
    batcher = start(model, recorder)
    assert result(batcher.submit(rows(1))) == [2]
    assert result(batcher.submit(rows(2))) == [4]
    assert batcher.alive


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the point
def test_a_dead_model_thread_is_reported_so_liveness_can_fail() -> None:
    def exit_thread(batch: np.ndarray) -> np.ndarray:
        raise SystemExit  # not an Exception: nothing in the thread may catch it

    batcher = Batcher(exit_thread, 8, WAIT_S, 16, Recorder()).start()
    batcher.submit(rows(1))
    deadline = time.monotonic() + WAIT_S
    while batcher.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not batcher.alive
