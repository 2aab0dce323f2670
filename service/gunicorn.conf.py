"""Gunicorn configuration: `gunicorn --config service/gunicorn.conf.py` from the repo (or /app)."""

import os
import shutil
import signal
import sys
import tempfile
from collections import Counter
from types import FrameType
from typing import Any

from gunicorn.glogging import Logger

from service.auth import read_tokens
from service.clients import load_clients
from service.cpu import worker_count, worker_cpus
from service.settings import Settings, SettingsError

try:
    settings = Settings.from_env()
    if settings.auth_token_file is not None:
        read_tokens(settings.auth_token_file)  # a bad token file stops the pod at once
    if settings.auth_clients_file is not None:
        load_clients(settings.auth_clients_file)  # so does a bad clients file
except SettingsError as error:
    sys.exit(f"error: {error}")

# --- Application -------------------------------------------------------------------------
wsgi_app = "service.app:create_app()"
# No preload: TensorFlow is not fork-safe, so each worker imports and loads the model itself.
preload_app = False

# --- Server socket -----------------------------------------------------------------------
bind = [f"0.0.0.0:{port}" for port in (settings.port, settings.metrics_port) if port]
backlog = 512

# --- Workers -----------------------------------------------------------------------------
worker_class = "service.worker.BalancedThreadWorker"
workers = worker_count(settings.gunicorn_workers)  # unset: one per CPU of the cpuset and quota
threads = settings.gunicorn_threads
timeout = 60
graceful_timeout = settings.graceful_timeout_seconds
keepalive = 5
# Recycle workers now and then (jitter so they do not all restart at once); service.worker
# does it without losing a request.
max_requests = settings.max_requests
max_requests_jitter = settings.max_requests // 10
# Temporary files only under /tmp: the root filesystem is read-only in the container.
worker_tmp_dir = tempfile.gettempdir()


# --- Logging -----------------------------------------------------------------------------
class AppAccessLogger(Logger):
    """The app logs each request itself (JSON, with its request id); gunicorn skips its line."""

    def access(self, *args: Any, **kwargs: Any) -> None:
        """Gunicorn would format an access line for every request only to drop it."""


logger_class = AppAccessLogger
accesslog = None
errorlog = "-"
loglevel = settings.log_level.value
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False}
    },
}


# --- Server hooks ------------------------------------------------------------------------
def on_starting(server: Any) -> None:
    """Give the workers a fresh Prometheus multiprocess directory under /tmp."""
    directory = tempfile.mkdtemp(prefix="prometheus-", dir=tempfile.gettempdir())
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def pre_fork(server: Any, worker: Any) -> None:
    """Choose the new worker's CPU: the one the fewest live siblings are pinned to, if pinning.

    So a replacement takes over the dead worker's CPU, and after a reload (new workers start
    before the old ones stop) the new generation still ends up one per CPU. A worker forked
    beyond the configured count is a recycled lone worker's successor (it asked with SIGTTIN;
    see service.worker).
    """
    cpus = worker_cpus(server.cfg.workers)
    pinned = Counter(sibling.cpu for sibling in server.WORKERS.values())
    worker.cpu = None if cpus is None else min(cpus, key=lambda cpu: pinned[cpu])
    worker.successor = server.num_workers > server.cfg.workers


def post_fork(server: Any, worker: Any) -> None:
    """Pin the worker to the CPU pre_fork chose."""
    if worker.cpu is not None:
        os.sched_setaffinity(0, {worker.cpu})  # before any thread starts: all of them inherit it
        server.log.info("worker %s pinned to CPU %s", worker.pid, worker.cpu)


def post_worker_init(worker: Any) -> None:
    """In the worker: start loading the model, and drain readiness on SIGTERM."""
    from service.app import runtime_of

    runtime = runtime_of(worker.wsgi)
    runtime.start(on_settled=worker.release)
    graceful_exit = signal.getsignal(signal.SIGTERM)

    def drain_then_exit(signum: int, frame: FrameType | None) -> None:
        runtime.drain()
        if callable(graceful_exit):
            graceful_exit(signum, frame)

    signal.signal(signal.SIGTERM, drain_then_exit)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the multiprocess metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the multiprocess metrics directory."""
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
