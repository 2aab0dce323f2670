"""Magnitude pruning with tensorflow-model-optimization, exported as a float32 LiteRT model.

tfmot 0.8 only wraps Keras 2 layers, so the trained Keras 3 weights are copied into the same CNN
built with tf_keras, pruned while fine-tuning, stripped of the pruning wrappers and converted.
"""

import gzip

import keras
import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras

from training.model import cnn, compile_for_training


def prune(
    trained: keras.Model,
    train_batches: tf.data.Dataset,
    sparsity: float,
    epochs: int,
    learning_rate: float,
) -> tuple[bytes, float]:
    """Fine-tune a pruned copy of `trained`; return its .tflite bytes and its kernel sparsity."""
    image_size = int(trained.input_shape[1])
    copy = cnn(tf_keras, image_size, int(trained.output_shape[-1]))
    copy.set_weights(trained.get_weights())
    steps = int(train_batches.cardinality())
    pruned = tfmot.sparsity.keras.prune_low_magnitude(
        copy,
        pruning_schedule=tfmot.sparsity.keras.ConstantSparsity(
            sparsity, begin_step=0, frequency=steps
        ),
    )
    compile_for_training(pruned, tf_keras, learning_rate)
    pruned.fit(
        train_batches,
        epochs=epochs,
        verbose=0,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
    )
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    kernels = [layer.kernel.numpy() for layer in stripped.layers if hasattr(layer, "kernel")]
    zeros = sum(int(np.sum(kernel == 0)) for kernel in kernels)
    total = sum(kernel.size for kernel in kernels)
    return bytes(tf.lite.TFLiteConverter.from_keras_model(stripped).convert()), zeros / total


def gzip_size(data: bytes) -> int:
    """Compressed size: where pruning's zeros pay off on disk and over the wire."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))
