"""The design CNN's arithmetic per image, counted from the Keras model's layers."""

# Before TensorFlow (keras): whichever of the two loads second aborts (training/__init__.py).
import ai_edge_litert.interpreter  # noqa: F401
import keras

from training.model import cnn


def model_flops(model: keras.Model) -> int:
    """FLOPs of one image: 2 x the multiply-accumulates of every Conv2D and Dense layer.

    Pooling, bias, ReLU and softmax are left out: under 1 % of the design CNN's work.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_h, kernel_w, channels, _ = layer.kernel.shape
            total += 2 * height * width * filters * kernel_h * kernel_w * channels
        elif isinstance(layer, keras.layers.Dense):
            inputs, units = layer.kernel.shape
            total += 2 * inputs * units
    return int(total)


def design_flops(image_size: int, num_classes: int) -> int:
    """FLOPs of one image through the design CNN at `image_size` x `image_size`."""
    return model_flops(cnn(keras, image_size, num_classes))
