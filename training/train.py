"""One training run: data → model → train → evaluate → export → optimise → publish."""

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.artifacts import MODEL_NAME, model_root
from training.config import TrainingConfig
from training.dataset import Dataset
from training.evaluate import (
    accuracy,
    per_class_metrics,
    plot_confusion_matrix,
    plot_training_curves,
)
from training.export import export_saved_model, signatures
from training.input_pipeline import image_array, image_batches
from training.litert import LiteRTClassifier
from training.model import build_model
from training.optimize import convert_float16, convert_int8
from training.provenance import provenance, weights_sha256
from training.pruning import gzip_size, prune
from training.staging import publish, staging_dir

# Images whose encoded bytes are pushed through the exported `serving_default` as a check.
EXPORT_CHECK_IMAGES = 16


def fit(model: keras.Model, config: TrainingConfig, dataset: Dataset) -> dict[str, list[float]]:
    """Train with Keras progress output; return the per-epoch history."""
    batches = image_batches(
        dataset, dataset.train, config.image_size, config.batch_size, config.seed
    )
    validation = image_batches(
        dataset, dataset.validation, config.image_size, config.batch_size, None
    )
    # One line per epoch when logged to a file; the live progress bar on a terminal.
    verbose = 1 if sys.stdout.isatty() else 2
    history = model.fit(batches, validation_data=validation, epochs=config.epochs, verbose=verbose)
    return {name: [float(value) for value in values] for name, values in history.history.items()}


def litert_variant(
    path: Path, data: bytes, images: np.ndarray, labels: np.ndarray, float_accuracy: float
) -> dict[str, Any]:
    """Write a .tflite file, measure its test accuracy with LiteRT and describe it."""
    path.write_bytes(data)
    classifier = LiteRTClassifier(path)
    variant_accuracy = accuracy(classifier.predict(images), labels)
    return {
        "file": path.name,
        "bytes": len(data),
        "accuracy": variant_accuracy,
        "accuracy_delta": variant_accuracy - float_accuracy,
        "signature": "serve_tensor",
        **classifier.describe(),
    }


def train(config: TrainingConfig, environment: str, dataset: Dataset) -> Path:
    """Train `environment`'s model on `dataset` per `config`; return the published version dir."""
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    started = time.monotonic()
    model = build_model(config.image_size, len(dataset.classes), config.learning_rate)
    history = fit(model, config, dataset)
    training_seconds = time.monotonic() - started

    test_images = image_array(dataset, dataset.test, config.image_size)
    test_labels = np.array(dataset.test.labels)
    probabilities = model.predict(test_images, verbose=0)
    test_accuracy = accuracy(probabilities, test_labels)
    print(f"test accuracy {test_accuracy:.4f} on {len(test_labels)} held-out images")

    root = model_root(config.models_dir, environment)
    with staging_dir(root) as staging:
        encoded = [(dataset.root / name).read_bytes() for name in dataset.test.files]
        export_saved_model(
            model,
            config.image_size,
            staging,
            test_images[:EXPORT_CHECK_IMAGES],
            encoded[:EXPORT_CHECK_IMAGES],
        )
        (staging / "eval").mkdir()
        plot_confusion_matrix(
            probabilities, test_labels, dataset.classes, staging / "eval/confusion_matrix.png"
        )
        plot_training_curves(history, staging / "eval/training_curves.png")
        splits = {"train": dataset.train, "validation": dataset.validation, "test": dataset.test}
        (staging / "split.json").write_text(
            json.dumps({name: list(split.files) for name, split in splits.items()}, indent=1) + "\n"
        )

        calibration = dataset.sample(dataset.train, config.representative_images, config.seed)
        representative = image_array(dataset, calibration, config.image_size)
        pruned, sparsity = prune(
            model,
            image_batches(
                dataset, dataset.train, config.image_size, config.batch_size, config.seed
            ),
            config.pruning_sparsity,
            config.pruning_epochs,
            config.learning_rate,
        )
        variants = {
            "float16": (convert_float16(staging), "model_float16.tflite"),
            "int8": (convert_int8(staging, representative), "model_int8.tflite"),
            "pruned": (pruned, "model_pruned.tflite"),
        }
        litert = {
            name: litert_variant(staging / file, data, test_images, test_labels, test_accuracy)
            for name, (data, file) in variants.items()
        }
        litert["int8"]["representative_images"] = len(calibration.files)
        litert["pruned"] |= {"sparsity": sparsity, "gzip_bytes": gzip_size(pruned)}

        metadata = {
            "name": MODEL_NAME,
            "environment": environment,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "classes": list(dataset.classes),
            "input": {
                "height": config.image_size,
                "width": config.image_size,
                "channels": 3,
                "preprocessing": "decode JPEG/PNG, RGB, resize bilinear to height x width, / 255",
            },
            "signatures": signatures(config.image_size, len(dataset.classes)),
            "saved_model": {
                "parameters": int(model.count_params()),
                "float32_weights_bytes": int(sum(w.nbytes for w in model.get_weights())),
                "accuracy": test_accuracy,
            },
            "litert": litert,
            "dataset": {
                "root": str(dataset.root),
                "sha256": dataset.sha256,
                "sha256_covers": "relative path and contents of every image, sorted by path",
                "split": {name: len(split.files) for name, split in splits.items()},
                "split_file": "split.json",
            },
            "metrics": {
                "test_accuracy": test_accuracy,
                "per_class": per_class_metrics(probabilities, test_labels, dataset.classes),
            },
            "eval": {
                "confusion_matrix": "eval/confusion_matrix.png",
                "training_curves": "eval/training_curves.png",
            },
            "training": {
                "config": config.to_json(),
                "seconds": round(training_seconds, 2),
                "history": history,
                "weights_sha256": weights_sha256(model),
                **provenance(),
            },
        }
        return publish(staging, root, metadata)
