"""(a) The same work without HTTP: decode + preprocess + batched inference in one process.

Each backend runs in its own process (`python -m ops.bench.inprocess`): LiteRT and TensorFlow
cannot be imported into the same interpreter.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from envconfig import REPO_ROOT
from service.backends import load_backend
from service.cpu import threads_per_worker, worker_cpus
from service.imaging import preprocess
from service.model_store import ModelArtifact, load_artifact
from service.settings import Backend


def images_per_second(
    kind: Backend, artifact: ModelArtifact, image: bytes, batch: int, seconds: float, workers: int
) -> float:
    """Images/s of decode+preprocess+predict in batches of `batch`, with a worker's threads."""
    backend = load_backend(kind, artifact, threads_per_worker(workers))
    shape = (batch, artifact.height, artifact.width, 3)
    backend.predict(np.zeros(shape, np.float32))
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        rows = np.stack([preprocess(image, artifact.height, artifact.width) for _ in range(batch)])
        backend.predict(rows)
        done += batch
    return done / (time.perf_counter() - began)


def measure_in_subprocesses(
    kind: Backend, artifact: ModelArtifact, image: Path, batch: int, seconds: float, workers: int
) -> float:
    """Run images_per_second in `workers` fresh interpreters at once, placed like the workers."""
    command = [
        sys.executable, "-m", "ops.bench.inprocess", "--backend", kind.value,
        "--model-dir", str(artifact.path), "--image", str(image),
        "--batch", str(batch), "--seconds", str(seconds), "--workers", str(workers),
    ]  # fmt: skip
    return summed_rate([[*command, "--cpu-slot", str(slot)] for slot in range(workers)])


def summed_rate(commands: list[list[str]], timeout: float | None = None) -> float:
    """Run `commands` at once; the sum of the images_per_second each prints as its last line."""
    processes = [
        subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    total = 0.0
    for command, process in zip(commands, processes, strict=True):
        output, errors = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{errors[-2000:]}")
        total += json.loads(output.strip().splitlines()[-1])["images_per_second"]
    return total


def main() -> None:
    """Print {"images_per_second": …} for one backend and model version directory."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench.inprocess")
    parser.add_argument("--backend", type=Backend, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--workers", type=int, required=True, help="processes sharing the CPUs")
    parser.add_argument("--cpu-slot", type=int, default=0, help="this process's worker slot")
    args = parser.parse_args()
    cpus = worker_cpus(args.workers)
    if cpus is not None:
        os.sched_setaffinity(0, {cpus[args.cpu_slot]})  # as gunicorn pins its workers
    version = args.model_dir
    artifact = load_artifact(version.parent.parent, version.parent.name, int(version.name))
    rate = images_per_second(
        args.backend, artifact, args.image.read_bytes(), args.batch, args.seconds, args.workers
    )
    print(json.dumps({"images_per_second": rate}))


if __name__ == "__main__":
    main()
