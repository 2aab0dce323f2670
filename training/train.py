"""One training run: data → model → train → evaluate → export → optimise → publish."""

import json
import sys
import time
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from modelartifact import LiteRTVariant, environment_base, model_dir
from modelartifact.keystore import KeyStore
from modelartifact.openvino import OpenVINOInt8Model
from training.config import TrainingConfig
from training.dataset import Dataset
from training.evaluate import (
    Evaluation,
    accuracy,
    bf16_accuracy,
    evaluate_model,
    plot_confusion_matrix,
    plot_training_curves,
)
from training.export import export_saved_model
from training.input_pipeline import image_array, image_batches
from training.litert import LiteRTClassifier
from training.metadata import PLOTS, SPLIT_FILE, build_metadata
from training.model import build_model
from training.optimize import convert_float16, convert_int8
from training.pruning import gzip_size, prune
from training.staging import publish, staging_dir

# Test images whose encoded bytes go through the exported `serving_default` as a check.
EXPORT_CHECK_IMAGES = 16


class TimeLeft(keras.callbacks.Callback):
    """After each epoch but the last, one line: the time the other epochs should take at the
    pace so far (`make train` at 224x224 runs for minutes per epoch on 2 CPUs)."""

    def __init__(self, epochs: int, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._epochs, self._clock = epochs, clock
        self._began = clock()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._began = self._clock()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        done, left = epoch + 1, self._epochs - epoch - 1
        if left:
            seconds = (self._clock() - self._began) / done * left
            print(
                f"epoch {done}/{self._epochs} done; about {seconds / 60:.1f} min for the "
                f"other {left}",
                flush=True,
            )


def fit(
    model: keras.Model, config: TrainingConfig, dataset: Dataset, batches: tf.data.Dataset
) -> dict[str, list[float]]:
    """Train with Keras progress output; return the per-epoch history."""
    validation = image_batches(
        dataset, dataset.validation, config.image_size, config.batch_size, None
    )
    # One line per epoch when logged to a file; the live progress bar on a terminal.
    verbose = 1 if sys.stdout.isatty() else 2
    history = model.fit(
        batches,
        validation_data=validation,
        epochs=config.epochs,
        verbose=verbose,
        callbacks=[TimeLeft(config.epochs)],
    )
    return {name: [float(value) for value in values] for name, values in history.history.items()}


def write_evaluation(
    staging: Path, dataset: Dataset, test: Evaluation, history: dict[str, list[float]]
) -> None:
    """The plots and the split file, beside the SavedModel."""
    (staging / "eval").mkdir()
    plot_confusion_matrix(
        test.probabilities, test.labels, dataset.classes, staging / PLOTS["confusion_matrix"]
    )
    plot_training_curves(history, staging / PLOTS["training_curves"])
    files = {name: list(split.files) for name, split in dataset.splits().items()}
    (staging / SPLIT_FILE).write_text(json.dumps(files, indent=1) + "\n")


def litert_variant(path: Path, data: bytes, test: Evaluation) -> dict[str, Any]:
    """Write a .tflite file, measure its test accuracy with LiteRT and describe it."""
    path.write_bytes(data)
    classifier = LiteRTClassifier(path)
    variant_accuracy = accuracy(classifier.predict(test.images), test.labels)
    return {
        "file": path.name,
        "bytes": len(data),
        "accuracy": variant_accuracy,
        "accuracy_delta": variant_accuracy - test.accuracy,
        "signature": "serve_tensor",
        **classifier.describe(),
    }


def openvino_accuracy(path: Path, variant: dict[str, Any], test: Evaluation) -> float:
    """The int8 file's test accuracy run by OpenVINO, as the service's openvino backend runs it."""
    tensors = LiteRTVariant.model_validate(variant)
    model = OpenVINOInt8Model(path, tensors.output.quantization(), threads=1)
    return accuracy(model.predict(test.images), test.labels)


def write_litert_variants(
    staging: Path,
    model: keras.Model,
    config: TrainingConfig,
    dataset: Dataset,
    batches: tf.data.Dataset,
    test: Evaluation,
) -> dict[str, Any]:
    """float16 and int8 from the staged SavedModel, and a pruned copy; each measured."""
    calibration = dataset.sample(dataset.train, config.representative_images, config.seed)
    representative = image_array(dataset, calibration, config.image_size)
    pruned, sparsity = prune(
        model, batches, config.pruning_sparsity, config.pruning_epochs, config.learning_rate
    )
    variants = {
        "float16": (convert_float16(staging), "model_float16.tflite"),
        "int8": (convert_int8(staging, representative), "model_int8.tflite"),
        "pruned": (pruned, "model_pruned.tflite"),
    }
    litert = {
        name: litert_variant(staging / file, data, test) for name, (data, file) in variants.items()
    }
    litert["int8"]["representative_images"] = len(calibration.files)
    litert["int8"]["openvino_accuracy"] = openvino_accuracy(
        staging / variants["int8"][1], litert["int8"], test
    )
    litert["pruned"] |= {"sparsity": sparsity, "gzip_bytes": gzip_size(pruned)}
    return litert


def train(config: TrainingConfig, environment: str, dataset: Dataset) -> Path:
    """Train `environment`'s model on `dataset` per `config`; return the published version dir."""
    # Before the work: an environment without its signing key fails now, not after training.
    signing_key = KeyStore.of(environment).signing_key()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    batches = image_batches(
        dataset, dataset.train, config.image_size, config.batch_size, config.seed
    )

    started = time.monotonic()
    model = build_model(config.image_size, len(dataset.classes), config.learning_rate)
    history = fit(model, config, dataset, batches)
    training_seconds = time.monotonic() - started

    test = evaluate_model(model, dataset, config.image_size)
    print(f"test accuracy {test.accuracy:.4f} on {len(test.labels)} held-out images")

    root = model_dir(environment_base(config.models_dir, environment))
    with staging_dir(root) as staging:
        checked = dataset.test.files[:EXPORT_CHECK_IMAGES]
        encoded = [(dataset.root / name).read_bytes() for name in checked]
        export_saved_model(model, config.image_size, staging, test.images[: len(checked)], encoded)
        write_evaluation(staging, dataset, test, history)
        litert = write_litert_variants(staging, model, config, dataset, batches, test)
        # Last: the bfloat16 switch is process-wide while the measurement runs.
        bf16 = bf16_accuracy(staging, test, config.batch_size)
        print(f"bfloat16 test accuracy {bf16:.4f}")
        metadata = build_metadata(
            config, environment, dataset, model, history, training_seconds, test, bf16, litert
        )
        return publish(staging, root, metadata, signing_key)
