"""Evaluation: accuracy, per-class precision/recall, confusion matrix and training-curve plots."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from modelartifact.precision import set_onednn_bfloat16
from training.dataset import Dataset
from training.input_pipeline import image_array


@dataclass(frozen=True)
class Evaluation:
    """The model's predictions on the held-out test split."""

    images: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    accuracy: float


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose most probable class is the label."""
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def evaluate_model(model: keras.Model, dataset: Dataset, image_size: int) -> Evaluation:
    """Predict the test split and score it."""
    images = image_array(dataset, dataset.test, image_size)
    labels = np.array(dataset.test.labels)
    probabilities = model.predict(images, verbose=0)
    return Evaluation(images, labels, probabilities, accuracy(probabilities, labels))


def bf16_accuracy(saved_model: Path, test: Evaluation, batch_size: int) -> float:
    """The exported SavedModel's test accuracy with bfloat16 inference, as the service's
    tensorflow-bf16 backend runs it; the process is back in float32 afterwards."""
    set_onednn_bfloat16(True)
    try:
        signature = tf.saved_model.load(str(saved_model)).signatures["serve_tensor"]
        batches = [
            signature(inputs=tf.constant(test.images[start : start + batch_size]))
            for start in range(0, len(test.images), batch_size)
        ]
    finally:
        set_onednn_bfloat16(False)
    probabilities = np.concatenate([batch["probabilities"].numpy() for batch in batches])
    return accuracy(probabilities, test.labels)


def per_class_metrics(
    probabilities: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Precision, recall and support of each class on the test split."""
    precision, recall, _, support = precision_recall_fscore_support(
        labels, np.argmax(probabilities, axis=1), labels=range(len(classes)), zero_division=0
    )
    return {
        name: {"precision": float(p), "recall": float(r), "support": int(s)}
        for name, p, r, s in zip(classes, precision, recall, support, strict=True)
    }


def plot_confusion_matrix(
    probabilities: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], path: Path
) -> None:
    """Save the test split's confusion matrix (rows: true class, columns: predicted) as PNG."""
    matrix = confusion_matrix(labels, np.argmax(probabilities, axis=1), labels=range(len(classes)))
    # A bare Figure renders with Agg and keeps no global pyplot state.
    figure = Figure(figsize=(6, 5))
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    axes.set(
        xticks=range(len(classes)),
        yticks=range(len(classes)),
        xticklabels=classes,
        yticklabels=classes,
        xlabel="predicted",
        ylabel="true",
        title="Confusion matrix (test split)",
    )
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_training_curves(history: dict[str, list[float]], path: Path) -> None:
    """Save loss and accuracy per epoch, training vs validation, as PNG."""
    figure = Figure(figsize=(10, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = range(1, len(history["loss"]) + 1)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], marker="o", label="training")
        axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set(xlabel="epoch", ylabel=metric, title=metric)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
