"""Gunicorn configuration: `gunicorn --config service/gunicorn.conf.py` from the repo (or /app)."""

import itertools
import os
import shutil
import signal
import sys
import tempfile
from types import FrameType
from typing import Any

from gunicorn.glogging import Logger

from service.cpu import worker_cpu
from service.settings import Settings, SettingsError

try:
    settings = Settings.from_env()
except SettingsError as error:
    sys.exit(f"error: {error}")

# --- Application -------------------------------------------------------------------------
wsgi_app = "service.app:create_app()"
# No preload: TensorFlow is not fork-safe, so each worker imports and loads the model itself.
preload_app = False

# --- Server socket -----------------------------------------------------------------------
bind = [f"0.0.0.0:{settings.port}"]
backlog = 512

# --- Workers -----------------------------------------------------------------------------
worker_class = "service.worker.BalancedThreadWorker"
workers = settings.gunicorn_workers
threads = settings.gunicorn_threads
timeout = 60
graceful_timeout = settings.graceful_timeout_seconds
keepalive = 5
# Recycle workers now and then (jitter so they do not all restart at once).
max_requests = 100_000
max_requests_jitter = 10_000
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
    """Give the new worker the lowest CPU slot no live sibling holds (a replacement inherits)."""
    taken = {sibling.cpu_slot for sibling in server.WORKERS.values()}
    worker.cpu_slot = next(slot for slot in itertools.count() if slot not in taken)


def post_fork(server: Any, worker: Any) -> None:
    """Pin the worker to its own CPU when the container has exactly one CPU per worker."""
    cpu = worker_cpu(worker.cpu_slot, server.num_workers)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # before any thread starts, so all of them inherit it
        server.log.info("worker %s pinned to CPU %s", worker.pid, cpu)


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
