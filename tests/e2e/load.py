"""A steady load of real predictions, counted by outcome, run beside a cluster operation.

Each request opens a new connection, as most clients behind a Service do between bursts, so
every request is load-balanced by kube-proxy over the ready pods. A request counts as failed
on any transport error or non-2xx status; nothing is retried.
"""

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from envconfig import REPO_ROOT

# The local release's NodePort (environments/Pulumi.local.yaml).
LOCAL_PORT = 8080


@dataclass
class LoadReport:
    """What the load saw: answers by model version, failures by kind, and when."""

    sent: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    # (seconds since start, model version) of each answer, in order.
    timeline: list[tuple[float, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class SteadyLoad:
    """`threads` senders at `rate` requests/s in total against host:port, until stopped."""

    def __init__(
        self, host: str, port: int, body: bytes, rate: float = 60.0, threads: int = 6
    ) -> None:
        self.host, self.port, self.body = host, port, body
        self.interval = threads / rate
        self.threads = threads
        self.report = LoadReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._started = 0.0

    def __enter__(self) -> "SteadyLoad":
        self._started = time.monotonic()
        self._workers = [
            threading.Thread(target=self._send, daemon=True) for _ in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        self.report.seconds = time.monotonic() - self._started

    def _send(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            outcome = self._one()
            with self._lock:
                self.report.sent += 1
                if outcome.startswith("version:"):
                    version = outcome.removeprefix("version:")
                    self.report.versions[version] += 1
                    self.report.timeline.append((time.monotonic() - self._started, version))
                else:
                    self.report.failures[outcome] += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _one(self) -> str:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", "/predict", self.body, headers={"Content-Type": "image/png"})
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                return f"http {response.status}"
            return "version:" + str(json.loads(payload)["model_version"])
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()


def digit_load(rate: float = 60.0, threads: int = 6) -> SteadyLoad:
    """Predictions of a real digit (training wrote the data set) on the local release's port."""
    digit = sorted((REPO_ROOT / "data" / "digits" / "7").glob("*.png"))[-1].read_bytes()
    return SteadyLoad("127.0.0.1", LOCAL_PORT, digit, rate=rate, threads=threads)


def assert_no_request_lost(report: LoadReport, floor: float = 50.0) -> None:
    """No failed request, at `floor` requests/s or more."""
    print(
        f"load: {report.sent} requests in {report.seconds:.1f}s ({report.rate:.0f}/s), "
        f"versions {dict(report.versions)}, failures {dict(report.failures)}"
    )
    assert report.failed == 0, f"failed requests: {dict(report.failures)}"
    assert report.rate >= floor
