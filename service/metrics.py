"""Prometheus metrics of one app; multiprocess-aware so every gunicorn worker is counted."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128)


class Metrics:
    """The service's metrics, registered in the app's own registry (or the multiprocess dir)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode the values live in files; a registry is only needed to collect.
        self.registry = CollectorRegistry()
        target = None if self.multiprocess else self.registry
        self.requests = Counter(
            "inference_requests_total",
            "HTTP requests by endpoint, model, version and status code.",
            ["endpoint", "model", "version", "status"],
            registry=target,
        )
        self.latency = Histogram(
            "inference_request_duration_seconds",
            "HTTP request latency by endpoint, model, version and status code.",
            ["endpoint", "model", "version", "status"],
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.refusals = Counter(
            "inference_auth_refusals_total",
            "Protected requests refused (401/403) by client and reason; callers without a valid "
            "token are client 'unknown'.",
            ["client", "reason"],
            registry=target,
        )
        self.in_flight = Gauge(
            "inference_requests_in_flight",
            "HTTP requests being handled now.",
            multiprocess_mode="livesum",
            registry=target,
        )
        self.queue_time = Histogram(
            "inference_queue_duration_seconds",
            "Time a request waited in the batch queue before its model call.",
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.inference_time = Histogram(
            "inference_model_duration_seconds",
            "Duration of one batched model call.",
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.batch_size = Histogram(
            "inference_batch_size",
            "Images per model call (dynamic batching).",
            buckets=BATCH_BUCKETS,
            registry=target,
        )
        self.model_info = Gauge(
            "inference_model_info",
            "The loaded model: 1 while this worker serves it.",
            ["model", "version", "backend"],
            multiprocess_mode="liveall",
            registry=target,
        )
        self.ready = Gauge(
            "inference_model_ready",
            "1 when the worker has loaded and warmed up its model.",
            multiprocess_mode="livemin",
            registry=target,
        )
        # "max" keeps a dead worker's value: once any worker has seen every worker loaded, the
        # server stays ready while a replacement loads, whichever worker a probe reaches.
        self.all_workers_loaded = Gauge(
            "inference_all_workers_loaded",
            "1 once every worker of this server has had its model at the same time.",
            multiprocess_mode="max",
            registry=target,
        )

    def batch_done(self, size: int, queue_seconds: list[float], inference_seconds: float) -> None:
        """Record one model call of `size` images and each request's queue wait."""
        self.batch_size.observe(size)
        self.inference_time.observe(inference_seconds)
        for seconds in queue_seconds:
            self.queue_time.observe(seconds)

    def loaded_workers(self) -> int:
        """How many live workers have their model loaded (this process alone if not under
        gunicorn)."""
        return int(sum(self._values("inference_model_info")["inference_model_info"]))

    def every_worker_loaded(self, workers: int) -> bool:
        """Whether `workers` workers have their model now, or any worker of this server, dead
        or alive, has seen that before; one read of the metrics files for both."""
        values = self._values("inference_model_info", "inference_all_workers_loaded")
        seen = any(value >= 1 for value in values["inference_all_workers_loaded"])
        return seen or sum(values["inference_model_info"]) >= workers

    def _values(self, *names: str) -> dict[str, list[float]]:
        """The samples of each metric in `names`, across the workers (this process if not under
        gunicorn)."""
        registry = CollectorRegistry()
        if self.multiprocess:
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        values: dict[str, list[float]] = {name: [] for name in names}
        for family in registry.collect():
            if family.name in values:
                values[family.name] += [sample.value for sample in family.samples]
        return values

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition of all metrics and its content type."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
