"""Export the trained model as a SavedModel with the two serving signatures, checked on reload.

`serving_default`: images (tf.string [None], encoded JPEG/PNG) → probabilities [None, classes];
`serve_tensor`: inputs (float32 [None, H, W, 3] in [0, 1]) → probabilities.
"""

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from training.input_pipeline import preprocess


def signatures(image_size: int, num_classes: int) -> dict[str, Any]:
    """The signatures as documented in metadata.json (null = any batch size)."""
    probabilities = {"dtype": "float32", "shape": [None, num_classes]}
    return {
        "serving_default": {
            "inputs": {"images": {"dtype": "string", "shape": [None]}},
            "outputs": {"probabilities": probabilities},
            "description": "encoded JPEG/PNG bytes; decoded, resized and scaled in the graph",
        },
        "serve_tensor": {
            "inputs": {"inputs": {"dtype": "float32", "shape": [None, image_size, image_size, 3]}},
            "outputs": {"probabilities": probabilities},
            "description": "preprocessed images: RGB, resized bilinear, float32 in [0, 1]",
        },
    }


def export_saved_model(
    model: keras.Model, image_size: int, target: Path, images: np.ndarray, encoded: list[bytes]
) -> None:
    """Write the SavedModel to `target`, reload it and compare both signatures with `model`."""
    pixels = tf.TensorSpec([image_size, image_size, 3], tf.float32)

    def serve_tensor(inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"probabilities": model(inputs, training=False)}

    def serve_bytes(images: tf.Tensor) -> dict[str, tf.Tensor]:
        decoded = tf.map_fn(
            lambda data: preprocess(data, image_size), images, fn_output_signature=pixels
        )
        return serve_tensor(decoded)

    module = tf.Module()
    # The TensorFlow variables under the Keras ones: each saved once, in layer order, and
    # freezable by the LiteRT converter (Keras' own ExportArchive saves every weight twice).
    module.weights = [weight.value for weight in model.weights]
    module.serving_default = tf.function(
        serve_bytes, input_signature=[tf.TensorSpec([None], tf.string, name="images")]
    )
    module.serve_tensor = tf.function(
        serve_tensor,
        input_signature=[
            tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="inputs")
        ],
    )
    tf.saved_model.save(
        module,
        str(target),
        signatures={"serving_default": module.serving_default, "serve_tensor": module.serve_tensor},
    )

    reloaded = tf.saved_model.load(str(target))
    expected = model.predict(images, verbose=0)
    from_tensor = reloaded.signatures["serve_tensor"](inputs=tf.constant(images))["probabilities"]
    np.testing.assert_allclose(from_tensor.numpy(), expected, rtol=1e-5, atol=1e-6)
    from_bytes = reloaded.signatures["serving_default"](images=tf.constant(encoded))[
        "probabilities"
    ]
    np.testing.assert_allclose(from_bytes.numpy(), expected[: len(encoded)], rtol=1e-5, atol=1e-6)
