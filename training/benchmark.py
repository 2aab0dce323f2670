"""`python -m training.benchmark --env ENV`: in-process throughput of each variant of ENV's model.

Runs the latest published version's SavedModel (`serve_tensor`), float16, int8 and pruned LiteRT
models on its own test images, batch by batch, and writes reports/training-benchmark.md.
"""

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from envconfig import REPO_ROOT, EnvironmentConfigError, load_environment
from modelartifact import ModelMetadata, read_metadata
from training.config import resolve_config
from training.ensure import latest_trained
from training.errors import TrainingError, one_line
from training.evaluate import accuracy
from training.input_pipeline import preprocess
from training.litert import LiteRTClassifier

REPORT = REPO_ROOT / "reports" / "training-benchmark.md"
BATCH_SIZE = 32
MIN_SECONDS = 3.0


def throughput(
    predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, min_seconds: float
) -> float:
    """Images per second over passes of full batches of `images`, for at least `min_seconds`."""
    # Full batches only: a LiteRT interpreter re-allocates whenever the batch size changes.
    starts = range(0, len(images) - BATCH_SIZE + 1, BATCH_SIZE)
    batches = [images[start : start + BATCH_SIZE] for start in starts]
    predict(batches[0])
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_seconds:
        for batch in batches:
            predict(batch)
        count += len(batches) * BATCH_SIZE
    return count / elapsed


def held_out_images(version_dir: Path, metadata: ModelMetadata) -> tuple[np.ndarray, np.ndarray]:
    """The version's held-out test images (preprocessed) and labels, from its split file."""
    root = Path(metadata.dataset["root"])
    files = json.loads((version_dir / metadata.dataset["split_file"]).read_text())["test"]
    classes = metadata.classes
    size = metadata.input.height
    images = np.stack([preprocess(tf.io.read_file(str(root / f)), size).numpy() for f in files])
    labels = np.array([classes.index(Path(f).parent.name) for f in files])
    return images, labels


def benchmark(version_dir: Path, min_seconds: float = MIN_SECONDS) -> str:
    """Measure every variant of the model in `version_dir`; return the report as Markdown."""
    metadata = read_metadata(version_dir)
    images, labels = held_out_images(version_dir, metadata)
    saved_model = tf.saved_model.load(str(version_dir)).signatures["serve_tensor"]
    variants: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
        "SavedModel (float32)": (
            lambda batch: saved_model(inputs=tf.constant(batch))["probabilities"].numpy(),
            sum(
                p.stat().st_size
                for p in [version_dir / "saved_model.pb", *version_dir.glob("variables/*")]
            ),
        )
    }
    for name, variant in metadata.litert:
        path = version_dir / variant.file
        variants[f"LiteRT {name}"] = (LiteRTClassifier(path).predict, path.stat().st_size)
    rows = []
    for name, (predict, size) in variants.items():
        rate = throughput(predict, images, min_seconds)
        rows.append(
            f"| {name} | {accuracy(predict(images), labels):.4f} | {size / 1024:.0f} | {rate:.0f} |"
        )
        print(rows[-1])
    return "\n".join(
        [
            "# Training benchmark: in-process inference throughput",
            "",
            f"Model: {metadata.environment} version {metadata.version} "
            f"({metadata.input.height}x{metadata.input.width}x3, "
            f"{len(images)} test images, batches of {BATCH_SIZE}, >= {min_seconds:g} s each).",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__}.",
            "Rerun: `python -m training.benchmark --env <env>`.",
            "",
            "| variant | test accuracy | size on disk (KiB) | images/s |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def main(argv: list[str]) -> int:
    """Benchmark ENV's latest model and write the report."""
    parser = argparse.ArgumentParser(prog="python -m training.benchmark", description=__doc__)
    parser.add_argument("--env", required=True)
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    try:
        config = resolve_config(load_environment(args.env), {})
    except (EnvironmentConfigError, TrainingError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    version_dir = latest_trained(args.env, config.models_dir)
    if version_dir is None:
        print(
            f"error: no model for {args.env}: run `python -m training --env {args.env}`",
            file=sys.stderr,
        )
        return 2
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(benchmark(version_dir))
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
