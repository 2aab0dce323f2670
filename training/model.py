"""The design's CNN: three Conv2D(3x3, relu) + MaxPool(2) stages, Dense(128), softmax."""

from types import ModuleType
from typing import Any

import keras

FILTERS = (32, 64, 128)
DENSE_UNITS = 128


def cnn(api: ModuleType, image_size: int, num_classes: int) -> Any:
    """The uncompiled Sequential model, built with Keras 3 (`keras`) or Keras 2 (`tf_keras`)."""
    layers = api.layers
    stages = []
    for filters in FILTERS:
        stages += [layers.Conv2D(filters, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2))]
    return api.Sequential(
        [
            api.Input(shape=(image_size, image_size, 3)),
            *stages,
            layers.Flatten(),
            layers.Dense(DENSE_UNITS, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="image_classifier",
    )


def compile_for_training(model: Any, api: ModuleType, learning_rate: float) -> None:
    """adam + sparse categorical cross-entropy, tracking accuracy."""
    model.compile(
        optimizer=api.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def build_model(image_size: int, num_classes: int, learning_rate: float) -> keras.Model:
    """The compiled Keras 3 model that training fits and exports."""
    model = cnn(keras, image_size, num_classes)
    compile_for_training(model, keras, learning_rate)
    return model
