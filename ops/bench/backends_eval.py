"""Faster backends, chosen by measurement: each on the held-out split and in a timed loop.

Every candidate runs `ops/bench/candidates/run_candidate.py` in the virtualenv that holds it
(the project's, or a pinned one beside the peers'), on float32 images preprocessed the way
training's evaluation does (`training.input_pipeline.image_array`), scored with
`training.evaluate.accuracy`. Throughput is the model alone (no decoding), batch of the
service's batch_max_size, in `workers` processes at once with the service's threads and pinning.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from envconfig import REPO_ROOT
from modelartifact import as_accurate
from ops.bench.inprocess import summed_rate
from ops.bench.peer_env import InstallError, ensure_env, locked, peer_env
from service.cpu import threads_per_worker, worker_cpus
from service.model_store import ModelArtifact

SCRIPT = Path(__file__).with_name("candidates") / "run_candidate.py"
CALIBRATION_IMAGES = 100
STEP_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Candidate:
    """A backend to try; `requirements` None means the project's own virtualenv."""

    name: str
    label: str
    precision: str  # fp32, bf16 or int8: whose peak it is measured against
    requirements: tuple[str, ...] | None = None

    @property
    def slug(self) -> str:
        """Its virtualenv's folder name: `<first package>-<version>`."""
        assert self.requirements is not None
        return self.requirements[0].replace("==", "-")


CANDIDATES = (
    Candidate("tf-float", "TF SavedModel float32 (the service's `tensorflow`)", "fp32"),
    Candidate(
        "tf-bf16",
        "TF + oneDNN auto mixed precision bfloat16 (the service's `tensorflow-bf16`)",
        "bf16",
    ),
    Candidate("litert-int8", "LiteRT int8 (the service's `litert`, model_int8.tflite)", "int8"),
    Candidate(
        "openvino-tflite-int8",
        "OpenVINO on model_int8.tflite (the service's `openvino`)",
        "int8",
    ),
    Candidate(
        "onnxruntime-int8",
        "ONNX Runtime int8 (tf2onnx opset 17, quantize_static QDQ per-channel U8S8)",
        "int8",
        ("onnxruntime==1.31.1", "tf2onnx==1.17.0", "onnx==1.23.2"),
    ),
    Candidate(
        "openvino-int8",
        "OpenVINO int8 (the ONNX model, NNCF post-training quantization)",
        "int8",
        ("openvino==2026.4.1", "nncf==3.4.0"),
    ),
)


@dataclass(frozen=True)
class BackendResult:
    """One candidate's accuracy and model-only images/s, or why it has none."""

    candidate: Candidate
    accuracy: float | None = None
    images_per_second: float | None = None
    excluded: str | None = None


@dataclass(frozen=True)
class HeldOut:
    """The bench's copy of the held-out split and the calibration images, as .npy files."""

    images: Path
    labels: np.ndarray
    calibration: Path


def held_out(artifact: ModelArtifact, work: Path) -> HeldOut:
    """Preprocess the artifact's test split (split.json) and calibration images as training does."""
    from training.dataset import Dataset, Split
    from training.input_pipeline import image_array

    split = json.loads((artifact.path / "split.json").read_text())

    def part(files: list[str]) -> Split:
        return Split(tuple(files), tuple(artifact.classes.index(f.split("/")[0]) for f in files))

    dataset = Dataset(
        REPO_ROOT / "data" / "digits",
        artifact.classes,
        "",
        part(split["train"]),
        part(split["validation"]),
        part(split["test"]),
    )
    images, calibration = work / "held-out.npy", work / "calibration.npy"
    np.save(images, image_array(dataset, dataset.test, artifact.height))
    sample = dataset.sample(dataset.train, CALIBRATION_IMAGES, seed=0)
    np.save(calibration, image_array(dataset, sample, artifact.height))
    return HeldOut(images, np.array(dataset.test.labels), calibration)


def _run(python: str, arguments: list[str], timeout: float = STEP_TIMEOUT_SECONDS) -> dict:
    result = subprocess.run(
        [python, str(SCRIPT), *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        closing = [line for line in result.stderr.splitlines() if line.strip()][-3:]
        raise RuntimeError(" / ".join(closing) or f"exit code {result.returncode}")
    parsed: dict = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def _python(candidate: Candidate, work: Path) -> str:
    if candidate.requirements is None:
        return sys.executable
    env = peer_env(candidate.slug, (*candidate.requirements, locked("tensorflow_cpu")))
    return str(ensure_env(env, work / f"install-{candidate.slug}.log").python)


def evaluate(
    candidate: Candidate,
    artifact: ModelArtifact,
    data: HeldOut,
    batch: int,
    seconds: float,
    workers: int,
    work: Path,
) -> BackendResult:
    """Build, score and time one candidate; a failure becomes the result's `excluded`."""
    from training.evaluate import accuracy

    try:
        python = _python(candidate, work)
        built = _run(python, [
            "build", "--backend", candidate.name, "--model-dir", str(artifact.path),
            "--calibration", str(data.calibration), "--out", str(work / "candidates"),
        ])["model"]  # fmt: skip
        common = ["--backend", candidate.name, "--model", built, "--images", str(data.images)]
        scores = work / f"probabilities-{candidate.name}.npy"
        _run(python, ["accuracy", *common, "--out", str(scores), "--batch", str(batch)])
        score = accuracy(np.load(scores), data.labels)
        cpus = worker_cpus(workers)
        timing = [
            *common, "--batch", str(batch), "--seconds", f"{seconds:g}",
            "--threads", str(threads_per_worker(workers)),
        ]  # fmt: skip
        rate = summed_rate(
            [
                [python, str(SCRIPT), "throughput", *timing]
                + ([] if cpus is None else ["--cpu", str(cpus[slot])])
                for slot in range(workers)
            ],
            timeout=STEP_TIMEOUT_SECONDS,
        )
    except (InstallError, RuntimeError, subprocess.TimeoutExpired, KeyError) as error:
        return BackendResult(candidate, excluded=str(error))
    return BackendResult(candidate, score, rate)


def summary(result: BackendResult) -> str:
    """One line for the progress output."""
    if result.excluded is not None:
        return f"not measured: {result.excluded}"
    return f"held-out accuracy {result.accuracy:.2%}, {result.images_per_second:.0f} images/s"


def accurate(result: BackendResult, float_accuracy: float) -> bool:
    """Within modelartifact's ACCURACY_TOLERANCE of the float model on the held-out split."""
    return result.accuracy is not None and as_accurate(result.accuracy, float_accuracy)
