"""Dynamic batching: concurrent requests' images are joined into one model call."""

import contextlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)
# The model thread runs at the lowest CPU priority (nice 19) in its worker. A saturated worker
# then finishes the HTTP and preprocessing work of every in-flight request before the next
# model call, and that call takes them all as one larger batch, which costs less per image;
# when the worker is idle the model thread still runs at once. Measured on 2 CPUs at
# concurrency 16 (224x224 TF model): mean batch 5.0 -> 7.6, 7.0 -> 6.9 ms CPU per image.
MODEL_THREAD_NICE = 19


class QueueFullError(RuntimeError):
    """The batch queue holds BATCH_QUEUE_CAPACITY requests already."""


class DeadlineExceeded(RuntimeError):
    """The job's deadline passed before its model call started, so it was not run."""


class BatchObserver(Protocol):
    """Receives per-batch measurements (the metrics module implements it)."""

    def batch_done(self, size: int, queue_seconds: list[float], inference_seconds: float) -> None:
        """One model call finished."""
        ...


@dataclass
class _Job:
    rows: np.ndarray
    deadline: float  # time.monotonic()
    future: "Future[np.ndarray]" = field(default_factory=Future)
    enqueued: float = field(default_factory=time.perf_counter)


class Batcher:
    """One thread runs the model; requests queue jobs and wait on futures for their rows."""

    def __init__(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        max_size: int,
        timeout_s: float,
        capacity: int,
        observer: BatchObserver,
    ) -> None:
        self._predict = predict
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=capacity)
        self._observer = observer
        self._expected = 0
        self._lock = threading.Lock()
        self._carry: _Job | None = None
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)

    def start(self) -> "Batcher":
        """Start the model thread (a daemon: it ends with the worker process)."""
        self._thread.start()
        return self

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Announce a request that will submit soon, so the batcher waits for it (up to timeout)."""
        with self._lock:
            self._expected += 1
        try:
            yield
        finally:
            with self._lock:
                self._expected -= 1

    @property
    def alive(self) -> bool:
        """Whether the model thread still runs (it is built to survive any exception)."""
        return self._thread.is_alive()

    def submit(self, rows: np.ndarray, deadline: float = math.inf) -> "Future[np.ndarray]":
        """Queue rows [n, H, W, 3]; the future yields their probabilities [n, classes], or
        DeadlineExceeded if the model call could not start before `deadline` (monotonic).
        Cancelling the future withdraws the job if its call has not started."""
        job = _Job(rows, deadline)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFullError(f"batch queue is full ({self._queue.maxsize} requests)") from None
        return job.future

    def _next(self, timeout: float | None) -> _Job:
        if self._carry is not None:
            job, self._carry = self._carry, None
            return job
        return self._queue.get(timeout=timeout)

    def _collect(self, first: _Job) -> list[_Job]:
        jobs, rows = [first], len(first.rows)
        deadline = time.perf_counter() + self._timeout_s
        while rows < self._max_size:
            with self._lock:
                more_coming = self._expected > len(jobs)
            remaining = deadline - time.perf_counter()
            # Only wait when another request has announced itself: a lone request runs at once.
            wait = remaining if more_coming and remaining > 0 else 0
            try:
                job = self._next(wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if rows + len(job.rows) > self._max_size:
                self._carry = job
                break
            jobs.append(job)
            rows += len(job.rows)
        return jobs

    def _run(self) -> None:
        _lower_own_priority(MODEL_THREAD_NICE)
        while True:
            try:
                self._run_one_batch()
            except Exception:  # a bug here must not leave every later request waiting
                log.exception("batcher: unexpected error, going on")

    def _run_one_batch(self) -> None:
        collected = self._collect(self._next(None))
        now = time.monotonic()
        jobs = []
        for job in collected:
            if not job.future.set_running_or_notify_cancel():
                continue  # its request gave up waiting
            if job.deadline < now:
                job.future.set_exception(DeadlineExceeded("the request's deadline passed"))
                continue
            jobs.append(job)
        if not jobs:
            return
        started = time.perf_counter()
        try:
            probabilities = self._predict(_join(jobs))
        except Exception as error:  # the model thread must survive a failed batch
            for job in jobs:
                job.future.set_exception(error)
            return
        finished = time.perf_counter()
        offset = 0
        for job in jobs:
            job.future.set_result(probabilities[offset : offset + len(job.rows)])
            offset += len(job.rows)
        self._observer.batch_done(
            offset, [started - job.enqueued for job in jobs], finished - started
        )


def _join(jobs: list[_Job]) -> np.ndarray:
    return jobs[0].rows if len(jobs) == 1 else np.concatenate([job.rows for job in jobs])


def _lower_own_priority(nice: int) -> None:
    # On Linux the nice value belongs to each thread; PRIO_PROCESS with the thread id sets it.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as error:
        log.warning("model thread keeps its CPU priority: %s", error)
