"""Run the measurements (service, peers, baseline, roofline, backends) and write the report."""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from envconfig import REPO_ROOT
from ops.bench.backends_eval import CANDIDATES, evaluate, held_out, summary
from ops.bench.comparison import Comparison, ServiceFigures
from ops.bench.flops import design_flops
from ops.bench.inprocess import measure_in_subprocesses
from ops.bench.load import LoadResult, run_wrk
from ops.bench.metrics_text import sample
from ops.bench.peers import PEERS, PeerRun, ServingShape, run_peer
from ops.bench.report import NAMES, Measurements, Round, ServiceRun, median_round, write_report
from ops.bench.server import Server, free_port, launch, start_server
from ops.progress import Progress
from service.cpu import available_cpus, threads_per_worker
from service.imaging import preprocess
from service.model_store import ModelArtifact, load_artifact
from service.settings import Backend, Settings
from training.ensure import MODELS_DIR, trained_or_exit

CONCURRENCY = (1, 4, 16)
# (a) and (b) at the top concurrency are measured back to back this many times: other jobs on
# the shared cores move single runs by several per cent, and the ratio is the target.
ROUNDS = 3
# One worker per CPU for both the service and the baseline: a single Python process is
# GIL-bound at HTTP handling long before the model is busy.
WORKERS = available_cpus()
REPORTS = REPO_ROOT / "reports"
BACKENDS = (Backend.TENSORFLOW, Backend.TENSORFLOW_BF16, Backend.LITERT, Backend.OPENVINO)
CANDIDATE_OF = {
    Backend.TENSORFLOW: "tf-float",
    Backend.TENSORFLOW_BF16: "tf-bf16",
    Backend.LITERT: "litert-int8",
    Backend.OPENVINO: "openvino-tflite-int8",
}
PRECISION_OF = {
    Backend.TENSORFLOW: "fp32",
    Backend.TENSORFLOW_BF16: "bf16",
    Backend.LITERT: "int8",
    Backend.OPENVINO: "int8",
}


def sample_jpeg(size: int = 256) -> bytes:
    """A real digit from the data set, upscaled to a camera-like size and saved as JPEG."""
    digit = sorted((REPO_ROOT / "data" / "digits" / "7").glob("*.png"))[0]
    out = io.BytesIO()
    Image.open(digit).convert("RGB").resize((size, size), Image.Resampling.BILINEAR).save(
        out, "JPEG", quality=90
    )
    return out.getvalue()


def _sweep(
    url: str, body: Path, content_type: str, seconds: float, levels: tuple[int, ...] = CONCURRENCY
) -> list[LoadResult]:
    run_wrk(url, body, content_type, 4, 2)  # warm-up, not reported
    return [run_wrk(url, body, content_type, c, seconds) for c in levels]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _mean_batch(before: str, after: str) -> float:
    """Images per model call between two /metrics scrapes."""
    batches = sample(after, "inference_batch_size_count") - sample(
        before, "inference_batch_size_count"
    )
    images = sample(after, "inference_batch_size_sum") - sample(before, "inference_batch_size_sum")
    return images / max(batches, 1)


def _at_70_percent(url: str, body: Path, sweep: list[LoadResult], seconds: float) -> LoadResult:
    # wrk is closed-loop: each connection waits DELAY_MS after a response. A few short probes
    # tune the delay until the achieved rate is about 70 % of the best sweep throughput.
    target = 0.7 * max(r.requests_per_second for r in sweep)
    connections = CONCURRENCY[-1]
    delay_ms = 1000 * connections / target
    for _ in range(5):
        probe = run_wrk(url, body, "image/jpeg", connections, 3, delay_ms)
        step = 1000 * connections * (1 / target - 1 / probe.requests_per_second)
        # Bounded: on shared cores one noisy probe must not drive the delay to zero.
        delay_ms = max(delay_ms / 4, delay_ms + step)
    return run_wrk(url, body, "image/jpeg", connections, seconds, delay_ms)


def _wait_for_every_worker(server: Server, workers: int, timeout: float) -> None:
    # Ready means one worker has its model; a request the other worker takes meanwhile is a
    # 503. Each loaded worker reports one inference_model_info series.
    deadline = time.monotonic() + timeout
    while sample(server.get("/metrics").text, "inference_model_info") < workers:
        if time.monotonic() > deadline:
            raise AssertionError(f"not all {workers} workers loaded within {timeout}s")
        time.sleep(0.2)


def measure_service(
    kind: Backend,
    base: Path,
    jpeg: Path,
    seconds: float,
    work: Path,
    in_process: Callable[[], float],
) -> ServiceRun:
    """(b): startup-to-ready, the sweep with ROUNDS rounds of (a) then (b) at the top
    concurrency, the 70 % run, mean batch size and RSS."""
    server = start_server(
        base,
        work / f"service-{kind.value}.log",
        MODEL_BACKEND=kind.value,
        GUNICORN_WORKERS=str(WORKERS),
    )
    try:
        startup = server.wait_until("/v2/health/ready", 200, 120)
        _wait_for_every_worker(server, WORKERS, 120)
        url = server.url + "/predict"
        answer = server.post(
            "/predict", data=jpeg.read_bytes(), headers={"Content-Type": "image/jpeg"}
        )
        answer.raise_for_status()
        top_label = answer.json()["predictions"][0]["label"]
        sweep = _sweep(url, jpeg, "image/jpeg", seconds, CONCURRENCY[:-1])
        before = server.get("/metrics").text
        rounds = [
            Round(in_process(), run_wrk(url, jpeg, "image/jpeg", CONCURRENCY[-1], seconds))
            for _ in range(ROUNDS)
        ]
        mean_batch = _mean_batch(before, server.get("/metrics").text)
        rss = max(_rss_mib(pid) for pid in server.worker_pids())
        steady = _at_70_percent(url, jpeg, [*sweep, median_round(rounds).service], seconds)
    finally:
        server.stop()
    return ServiceRun(startup, sweep, rounds, steady, mean_batch, rss, top_label)


def measure_baseline(
    artifact: ModelArtifact, floats: Path, seconds: float, work: Path
) -> list[LoadResult]:
    """(c): the naive JSON-floats app under gunicorn sync workers."""
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(artifact.path)}
    arguments = [
        "-m", "gunicorn", "--worker-class", "sync", "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}", "ops.bench.baseline_app:create_app()",
    ]  # fmt: skip
    server: Server = launch(arguments, port, work / "baseline.log", env)
    try:
        server.wait_until("/predict", 405, 120)
        return _sweep(server.url + "/predict", floats, "application/json", seconds)
    finally:
        server.stop()


SECTIONS = ("peers", "roofline", "backends")
PEER_INSTALL_SECONDS = 300  # a peer's virtualenv, TensorFlow's wheel from pip's cache


def estimates(seconds: float, skip: set[str]) -> dict[str, float]:
    """Each stage's expected seconds on this machine (startup and warm-up included)."""
    service = 20 + 2 + 2 * seconds + ROUNDS * 2 * seconds + 5 * 3 + seconds
    stages = {f"service, {NAMES[kind]}": service for kind in BACKENDS}
    if "peers" not in skip:
        for peer in PEERS:
            install = 0 if peer.env().ready() else PEER_INSTALL_SECONDS
            stages[f"peer {peer.name} {peer.version}"] = install + 50 + 2 + 3 * seconds
    stages["baseline"] = 20 + 2 + 3 * seconds
    if "roofline" not in skip:
        stages["roofline, first"] = stages["roofline, again"] = 30
    if "backends" not in skip:
        stages["backends"] = 60 + sum(
            (90 if candidate.requirements else 0) + 40 + seconds for candidate in CANDIDATES
        )
    return stages


def measure_peaks(threads: int) -> tuple[dict[str, float], dict[str, str]]:
    """`python -m ops.bench.roofline` in its own process: FLOP/s by precision, and how."""
    output = subprocess.run(
        [sys.executable, "-m", "ops.bench.roofline", "--threads", str(threads)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    measured = json.loads(output.strip().splitlines()[-1])
    methods = measured.pop("methods")
    return {precision: float(rate) for precision, rate in measured.items()}, methods


def main(argv: list[str]) -> int:
    """Measure the service, its peers, the baseline, the machine's peaks and the candidate
    backends; write reports/service-benchmark-ENV.{md,png} and -peers.png."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__)
    parser.add_argument("--env", default="local", help="whose model: models/<env>/")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each load run")
    parser.add_argument(
        "--skip", action="append", default=[], choices=SECTIONS, help="leave a section out"
    )
    args = parser.parse_args(argv)
    skip = set(args.skip)
    # A version from before bf16_accuracy was recorded is retrained: tensorflow-bf16 refuses it.
    trained_or_exit(args.env)
    base = MODELS_DIR / args.env
    settings = Settings()
    artifact = load_artifact(base, settings.model_name, None)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"bench {args.env} model v{artifact.version}: work files and logs in {work}", flush=True)
    image = sample_jpeg()
    jpeg = work / "image.jpg"
    jpeg.write_bytes(image)
    floats = work / "image.json"
    rows = preprocess(image, artifact.height, artifact.width)[None]
    floats.write_text(json.dumps({"instances": np.round(rows, 6).tolist()}))
    measurements = Measurements(
        env=args.env,
        artifact=artifact,
        seconds=args.seconds,
        load_average=os.getloadavg(),
        workers=WORKERS,
    )
    progress = Progress(estimates(args.seconds, skip))
    # The peaks are measured at the start and again at the end, and the higher of the two kept:
    # other jobs on these cores during one short measurement would lower the peak.
    peaks: list[dict[str, float]] = []
    if "roofline" not in skip:
        with progress.stage("roofline, first"):
            first, comparison_methods = measure_peaks(available_cpus())
        peaks.append(first)
    for kind in BACKENDS:
        in_process = partial(
            measure_in_subprocesses,
            kind, artifact, jpeg, settings.batch_max_size, args.seconds, WORKERS,
        )  # fmt: skip
        with progress.stage(f"service, {NAMES[kind]}"):
            measurements.service[kind] = measure_service(
                kind, base, jpeg, args.seconds, work, in_process
            )
        time.sleep(1)
    comparison = Comparison(design_flops(artifact.height, artifact.num_classes))
    comparison.service = [
        ServiceFigures(
            NAMES[kind],
            CANDIDATE_OF[kind],
            PRECISION_OF[kind],
            run.in_process,
            median_round(run.rounds).service,
            run.curve,
        )
        for kind, run in measurements.service.items()
    ]
    comparison.service_label = measurements.service[Backend.TENSORFLOW].top_label
    if "peers" in skip:
        comparison.not_run["peers"] = "left out with --skip peers"
    else:
        shape = ServingShape(
            WORKERS, threads_per_worker(WORKERS), settings.batch_max_size, settings.batch_timeout_ms
        )
        sweep = partial(_peer_sweep, seconds=args.seconds)
        for peer in PEERS:
            with progress.stage(f"peer {peer.name} {peer.version}"):
                run: PeerRun = run_peer(
                    peer, artifact.path, shape, image, artifact.classes,
                    comparison.service_label, work, sweep,
                )  # fmt: skip
            comparison.peers.append(run)
            if run.excluded:
                print(f"  {peer.name} excluded: {run.excluded}", flush=True)
    with progress.stage("baseline"):
        measurements.baseline = measure_baseline(artifact, floats, args.seconds, work)
    if "roofline" in skip:
        comparison.not_run["roofline"] = "left out with --skip roofline"
    else:
        with progress.stage("roofline, again"):
            peaks.append(measure_peaks(available_cpus())[0])
        comparison.peaks = {p: max(run[p] for run in peaks) for p in peaks[0]}
        comparison.peak_methods = comparison_methods
    if "backends" in skip:
        comparison.not_run["backends"] = "left out with --skip backends"
    else:
        with progress.stage("backends"):
            data = held_out(artifact, work)
            for candidate in CANDIDATES:
                result = evaluate(
                    candidate, artifact, data, settings.batch_max_size, args.seconds,
                    WORKERS, work,
                )  # fmt: skip
                comparison.backends.append(result)
                print(f"  {candidate.name}: {summary(result)}", flush=True)
    measurements.comparison = comparison
    markdown, plot = write_report(measurements, REPORTS)
    print(f"wrote {markdown} and {plot}")
    return 0


def _peer_sweep(url: str, body: Path, seconds: float) -> list[LoadResult]:
    return _sweep(url, body, "application/json", seconds)
