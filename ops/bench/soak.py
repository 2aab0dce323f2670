"""Soak: wrk from 8 kept-alive connections for minutes, workers recycled by max_requests.

`python -m ops.bench.soak [--env ENV] [--minutes 10] [--workers 2]` prints the answers and errors,
the recycles, and the workers' total RSS over time (it must stay flat). Too long for the test
suite; tests/service/test_recycling.py is its short form.
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from envconfig import REPO_ROOT
from ops.bench.load import LoadResult, run_wrk
from ops.bench.metrics_text import sample
from ops.bench.server import start_server
from training.ensure import MODELS_DIR, trained_or_exit

SAMPLE_SECONDS = 15


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:  # a worker that exited meanwhile
        pass
    return 0.0


def main(argv: list[str]) -> int:
    """Soak ENV's model under gunicorn; print the result."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.soak", description=__doc__)
    parser.add_argument("--env", default="local", help="whose model: models/<env>/")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "litert"])
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args(argv)
    trained_or_exit(args.env)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    body = work / "digit.png"
    body.write_bytes(sorted((REPO_ROOT / "data" / "digits" / "7").glob("*.png"))[0].read_bytes())
    log = work / "gunicorn.log"
    with start_server(
        MODELS_DIR / args.env,
        log,
        MODEL_BACKEND=args.backend,
        GUNICORN_WORKERS=str(args.workers),
        MAX_REQUESTS=str(args.max_requests),
    ) as server:
        server.wait_until("/v2/health/ready", 200, 120)
        # The probe reached one worker; each loaded worker reports one model_info series.
        while sample(server.get("/metrics").text, "inference_model_info") < args.workers:
            time.sleep(0.2)
        results: list[LoadResult] = []
        seconds = args.minutes * 60
        load = threading.Thread(
            target=lambda: results.append(
                run_wrk(server.url + "/predict", body, "image/png", 8, seconds)
            )
        )
        load.start()
        rss: list[float] = []
        while load.is_alive():
            rss.append(sum(_rss_mib(pid) for pid in server.worker_pids()))
            load.join(SAMPLE_SECONDS)
    [result] = results
    text = log.read_text()
    recycles = text.count("recycling worker") + text.count("asking for a successor")
    answered = result.requests_per_second * seconds
    print(
        f"{args.minutes:g} min, {args.workers} worker(s), {args.backend}: {answered:.0f} answers"
        f" ({result.requests_per_second:.0f}/s), {result.failed} errors or non-2xx, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {recycles} recycles"
    )
    print(
        f"workers' RSS (MiB, every {SAMPLE_SECONDS}s): first {rss[0]:.0f}, "
        f"last {rss[-1]:.0f}, min {min(rss):.0f}, max {max(rss):.0f}"
    )
    print(f"log: {log}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
