"""Overload: find the rate a server saturates at, then offer a multiple of it open-loop.

Open loop means requests start on a fixed schedule whatever the server does, as independent
clients would send them; a closed loop (wrk) slows down with the server and never overloads it.
`python -m ops.bench.overload [--env ENV]` prints the status mix and latencies at 4x saturation.
"""

import argparse
import base64
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ops.bench.server import start_niced_server
from service.inference import MAX_IMAGES_PER_REQUEST
from training.ensure import MODELS_DIR, trained_or_exit

# The server's niceness: the load generator shares its CPUs here, and on a machine of its own
# it would not wait for the server. At equal priority on 2 CPUs the client's 256 threads
# waited for a CPU: 202 of 744 requests started late and the 2xx p99 read 1959 ms.
SERVER_NICENESS = 10


@dataclass(frozen=True)
class Load:
    """What to send: a JSON body to a path."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass
class Outcome:
    """Every answer of one run: status counts, latencies of the 2xx, what went wrong."""

    statuses: Counter[int | str] = field(default_factory=Counter)
    ok_seconds: list[float] = field(default_factory=list)
    retry_after_missing: int = 0
    late_starts: int = 0  # requests the client itself could not start on schedule
    start_seconds: list[float] = field(default_factory=list)  # when each request really began

    def percentile(self, q: float) -> float:
        """Latency of the 2xx answers at quantile q (0..1), in seconds."""
        ordered = sorted(self.ok_seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def offered_rate(self) -> float:
        """Requests per second the client really started, from its first start to its last.

        On 2 CPUs a saturated server delays some of the client's starts by more than 100 ms;
        what makes the run an overload is the rate that still reached the server.
        """
        if len(self.start_seconds) < 2:
            return 0.0
        return (len(self.start_seconds) - 1) / (max(self.start_seconds) - min(self.start_seconds))

    def summary(self) -> str:
        """One line for people."""
        total = sum(self.statuses.values())
        mix = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items(), key=str))
        return (
            f"{total} requests ({mix}); 2xx p50 {self.percentile(0.5) * 1000:.0f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.0f} ms; {self.retry_after_missing} 503/429 "
            f"without Retry-After; offered {self.offered_rate():.0f}/s, "
            f"{self.late_starts} started late by the client"
        )


def _send(session: requests.Session, load: Load, timeout: float) -> tuple[int | str, float, bool]:
    began = time.monotonic()
    try:
        response = session.post(load.url, data=load.body, headers=load.headers, timeout=timeout)
    except requests.RequestException as error:
        return type(error).__name__, time.monotonic() - began, True
    retry_after = response.status_code not in (429, 503) or "Retry-After" in response.headers
    return response.status_code, time.monotonic() - began, retry_after


def closed_loop_rate(load: Load, concurrency: int, seconds: float) -> float:
    """Answers per second with `concurrency` clients that each send again at once."""
    stop = time.monotonic() + seconds
    counts = Counter[bool]()
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < stop:
                status, _, _ = _send(session, load, 30)
                with lock:
                    counts[status == 200] += 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts[True] / seconds


def open_loop(load: Load, rate: float, seconds: float, timeout: float = 10) -> Outcome:
    """Start `rate` requests per second for `seconds` on schedule; collect every answer."""
    outcome = Outcome()
    lock = threading.Lock()
    local = threading.local()  # one kept-alive session per client thread
    with ThreadPoolExecutor(max_workers=256) as pool:

        def one(scheduled: float) -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            began = time.monotonic()
            status, took, retry_after = _send(session, load, timeout)
            with lock:
                outcome.start_seconds.append(began)
                outcome.statuses[status] += 1
                outcome.late_starts += began - scheduled > 0.1
                outcome.retry_after_missing += not retry_after
                if status == 200:
                    outcome.ok_seconds.append(took)

        began = time.monotonic()
        for index in range(int(rate * seconds)):
            scheduled = began + index / rate
            time.sleep(max(0.0, scheduled - time.monotonic()))
            pool.submit(one, scheduled)
    return outcome


def batch_load(url: str, image: bytes, images: int) -> Load:
    """A TF-Serving predict of `images` copies of one encoded image, to the server at `url`."""
    instances = [{"b64": base64.b64encode(image).decode()}] * images
    body = json.dumps({"instances": instances}).encode()
    return Load(url + "/v1/models/image-classifier:predict", body)


def main(argv: list[str]) -> int:
    """Saturate, then offer 4x that rate open-loop; print both."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.overload", description=__doc__)
    parser.add_argument("--env", default="local", help="whose model: models/<env>/")
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "litert"])
    parser.add_argument(
        "--images", type=int, default=MAX_IMAGES_PER_REQUEST, help="images per request"
    )
    parser.add_argument("--factor", type=float, default=4, help="multiple of the saturating rate")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args(argv)
    trained_or_exit(args.env)
    base = MODELS_DIR / args.env
    digit = sorted((Path(__file__).parents[2] / "data" / "digits" / "7").glob("*.png"))[0]
    log = Path(tempfile.mkdtemp(prefix="overload-")) / "gunicorn.log"
    variables = {"MODEL_BACKEND": args.backend}
    with start_niced_server(base, log, SERVER_NICENESS, variables) as server:
        server.wait_until("/v2/health/ready", 200, 120)
        load = batch_load(server.url, digit.read_bytes(), args.images)
        saturated = closed_loop_rate(load, 16, args.seconds / 2)
        print(f"saturation: {saturated:.1f} requests/s ({args.images} images each)")
        outcome = open_loop(load, args.factor * saturated, args.seconds)
        print(f"at {args.factor:g}x ({args.factor * saturated:.0f}/s): {outcome.summary()}")
        print(f"2xx mean {statistics.fmean(outcome.ok_seconds or [0]) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
