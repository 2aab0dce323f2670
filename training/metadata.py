"""The facts of a training run that go into metadata.json (schema: modelartifact/metadata.py)."""

from datetime import UTC, datetime
from typing import Any

import keras

from modelartifact import MODEL_NAME
from training.config import TrainingConfig
from training.dataset import Dataset
from training.evaluate import Evaluation, per_class_metrics
from training.export import signatures
from training.provenance import provenance, weights_sha256

PREPROCESSING = "decode JPEG/PNG, RGB, resize bilinear to height x width, / 255"
PLOTS = {
    "confusion_matrix": "eval/confusion_matrix.png",
    "training_curves": "eval/training_curves.png",
}
SPLIT_FILE = "split.json"


def build_metadata(
    config: TrainingConfig,
    environment: str,
    dataset: Dataset,
    model: keras.Model,
    history: dict[str, list[float]],
    training_seconds: float,
    test: Evaluation,
    bf16_accuracy: float,
    litert: dict[str, Any],
) -> dict[str, Any]:
    """Every key of the metadata but `version` and `files`, which publishing stamps in."""
    return {
        "name": MODEL_NAME,
        "environment": environment,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "classes": list(dataset.classes),
        "input": {
            "height": config.image_size,
            "width": config.image_size,
            "channels": 3,
            "preprocessing": PREPROCESSING,
        },
        "signatures": signatures(config.image_size, len(dataset.classes)),
        "saved_model": {
            "parameters": int(model.count_params()),
            "float32_weights_bytes": int(sum(w.nbytes for w in model.get_weights())),
            "accuracy": test.accuracy,
            "bf16_accuracy": bf16_accuracy,
        },
        "litert": litert,
        "dataset": {
            "root": str(dataset.root),
            "sha256": dataset.sha256,
            "sha256_covers": "relative path and contents of every image, sorted by path",
            "split": {name: len(split.files) for name, split in dataset.splits().items()},
            "split_file": SPLIT_FILE,
        },
        "metrics": {
            "test_accuracy": test.accuracy,
            "per_class": per_class_metrics(test.probabilities, test.labels, dataset.classes),
        },
        "eval": PLOTS,
        "training": {
            "config": config.to_json(),
            "seconds": round(training_seconds, 2),
            "history": history,
            "weights_sha256": weights_sha256(model),
            **provenance(),
        },
    }
