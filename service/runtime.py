"""The worker's model runtime: load and warm up in the background, then classify via the batcher."""

import enum
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager

import numpy as np

from service.backends import ModelBackend, load_backend
from service.batching import Batcher, DeadlineExceeded, QueueFullError
from service.cpu import threads_per_worker, worker_count
from service.errors import ApiError
from service.metrics import Metrics
from service.model_store import ModelArtifact, open_artifact
from service.settings import Settings

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "1"


class State(enum.Enum):
    """Lifecycle of the worker's model, as the TF-Serving status API names it."""

    LOADING = "LOADING"
    AVAILABLE = "AVAILABLE"
    FAILED = "FAILED"
    UNLOADING = "UNLOADING"


class ModelRuntime:
    """Holds the loaded model of this worker and answers readiness."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self._metrics = metrics
        self.state = State.LOADING
        self.artifact: ModelArtifact | None = None
        self._batcher: Batcher | None = None
        self._started = threading.Event()
        self._settled = threading.Event()
        # The workers of this server (gunicorn.conf.py sizes the pool the same way); a process
        # outside gunicorn counts itself alone.
        self._workers = worker_count(settings.gunicorn_workers) if metrics.multiprocess else 1
        self._every_worker_loaded = False
        self._backend = ""

    @property
    def ready(self) -> bool:
        """True once loaded and warmed up, false again while draining."""
        return self.state is State.AVAILABLE

    def every_worker_loaded(self) -> bool:
        """True once every worker of this server has had its model at the same time; checked
        until then, remembered after by the whole server (the first worker to see it records it
        in a metric its siblings read), whichever worker a probe reaches.

        A fresh pod's workers all take connections while they load (so that liveness answers):
        a pod that reported ready when its first worker was would get clients that a sibling
        still loading answers 503. A worker that replaces one later takes no connection until
        its model is loaded (service.worker), so the pod stays ready meanwhile."""
        if not self._every_worker_loaded and self._metrics.every_worker_loaded(self._workers):
            self._metrics.all_workers_loaded.set(1)  # for the siblings: whichever probe sees it
            self._every_worker_loaded = True
        return self._every_worker_loaded

    def start(self, on_settled: Callable[[], None] = lambda: None) -> None:
        """Load in a background thread so liveness answers while the model loads; then call
        `on_settled` (in that thread), whether the model is ready or failed."""
        if not self._started.is_set():
            self._started.set()
            threading.Thread(
                target=self._load_then, args=(on_settled,), name="model-loader", daemon=True
            ).start()

    def _load_then(self, on_settled: Callable[[], None]) -> None:
        try:
            self._load()
        finally:
            on_settled()
            self._publish()
            self._settled.set()

    def _publish(self) -> None:
        # After on_settled, which releases a replacement worker: a sibling or client that
        # counts the workers with a model then counts workers that take connections.
        if self.state is State.AVAILABLE and self.artifact is not None:
            info = self._metrics.model_info
            info.labels(self.artifact.name, str(self.artifact.version), self._backend).set(1)
            self._metrics.ready.set(1)

    def wait_until_settled(self, timeout: float) -> bool:
        """Block until the load has settled (ready or failed) and been published; False if
        `timeout` seconds passed first."""
        return self._settled.wait(timeout)

    def drain(self) -> None:
        """Readiness goes false; requests already accepted still complete."""
        self.state = State.UNLOADING
        self._metrics.ready.set(0)
        log.info("draining: not ready, finishing accepted requests")

    def _load(self) -> None:
        began = time.perf_counter()
        settings = self.settings
        try:
            threads = threads_per_worker(worker_count(settings.gunicorn_workers))
            # An encrypted model's plaintext exists only until its backend has read it.
            with open_artifact(settings) as artifact:
                verified = time.perf_counter()
                backend = load_backend(settings.model_backend, artifact, threads)
            self._warm_up(backend, artifact)
        except Exception as error:  # any failure must leave the worker alive and not ready
            self.state = State.FAILED
            log.error(
                "model not loaded, service stays not ready: %s: %s", type(error).__name__, error
            )
            return
        self._batcher = Batcher(
            backend.predict,
            max_size=settings.batch_max_size,
            timeout_s=settings.batch_timeout_ms / 1000,
            capacity=settings.batch_queue_capacity,
            observer=self._metrics,
        ).start()
        self.artifact = artifact
        self._backend = backend.name
        if self.state is State.LOADING:
            self.state = State.AVAILABLE
        log.info(
            "model ready",
            extra={
                "model": artifact.name,
                "version": artifact.version,
                "backend": backend.name,
                "threads": threads,
                "seconds": round(time.perf_counter() - began, 3),
                # Signature check, decryption and checksums: the cost of the model's integrity.
                "verify_seconds": round(verified - began, 3),
            },
        )

    def _warm_up(self, backend: ModelBackend, artifact: ModelArtifact) -> None:
        # The first calls build kernels and allocate; do them before readiness. The batch
        # dimension is dynamic in every backend, so the smallest and largest batch suffice.
        for size in sorted({1, self.settings.batch_max_size}):
            backend.predict(np.zeros((size, artifact.height, artifact.width, 3), np.float32))

    def resolve(self, name: str, version: str | None) -> ModelArtifact:
        """The loaded artifact if `name`/`version` address it; 404 or 503 otherwise."""
        if name != self.settings.model_name:
            raise ApiError(
                404, f"model {name!r} not found (this server serves {self.settings.model_name!r})"
            )
        artifact = self.artifact
        if artifact is None:
            raise self._not_ready()
        if version is not None and version != str(artifact.version):
            raise ApiError(
                404,
                f"version {version!r} of model {name!r} not found "
                f"(serving version {artifact.version})",
            )
        return artifact

    def _not_ready(self) -> ApiError:
        return ApiError(
            503,
            f"model {self.settings.model_name!r} is not ready ({self.state.value})",
            {"Retry-After": RETRY_AFTER_SECONDS},
        )

    def expecting(self) -> AbstractContextManager[None]:
        """Context manager announcing an upcoming classify() to the batcher."""
        if self._batcher is None:
            raise self._not_ready()
        return self._batcher.expecting()

    @property
    def live(self) -> bool:
        """False once the model thread has died: only a restart brings the worker back."""
        return self._batcher is None or self._batcher.alive

    def classify(self, rows: np.ndarray, deadline: float) -> np.ndarray:
        """float32 [n, H, W, 3] -> probabilities [n, classes], batched with concurrent calls;
        503 + Retry-After if the queue is full or the result is not there by `deadline`."""
        if self._batcher is None:
            raise self._not_ready()
        try:
            future = self._batcher.submit(rows, deadline)
        except QueueFullError as error:
            raise overloaded(str(error)) from None
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except (FutureTimeout, DeadlineExceeded):
            future.cancel()
            raise overloaded("the request's deadline passed before the model answered") from None


def overloaded(reason: str) -> ApiError:
    """The 503 a client retries after RETRY_AFTER_SECONDS."""
    return ApiError(503, f"overloaded: {reason}", {"Retry-After": RETRY_AFTER_SECONDS})
