"""tf.data input: the one image preprocessing (decode → RGB → resize bilinear → /255) and batches.

The serving signature applies `preprocess` inside the exported graph, so training and serving
cannot drift apart.
"""

import numpy as np
import tensorflow as tf

from training.dataset import Dataset, Split


def decode(encoded: tf.Tensor) -> tf.Tensor:
    """Encoded JPEG/PNG bytes → uint8 [H, W, 3], the pixels the service's Pillow decodes.

    JPEG with libjpeg's accurate integer IDCT, Pillow's: TensorFlow's default is the fast one,
    which differed from Pillow on most pixels of a JPEG (by up to 14 levels at quality 95) and
    changed the top class of 2 of 269 held-out digits sent as JPEG.
    """
    return tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_png(encoded, channels=3),
    )


def preprocess(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
    """Encoded JPEG/PNG bytes → float32 [H, W, 3] in [0, 1]."""
    image = decode(encoded)
    image.set_shape([None, None, 3])
    resized = tf.image.resize(image, (image_size, image_size), method="bilinear")
    return resized / 255.0


def image_batches(
    dataset: Dataset, split: Split, image_size: int, batch_size: int, shuffle_seed: int | None
) -> tf.data.Dataset:
    """(images, labels) batches of one split; shuffled each epoch with `shuffle_seed` if given."""
    files = tf.data.Dataset.from_tensor_slices(dataset.paths(split))
    labels = tf.data.Dataset.from_tensor_slices(list(split.labels))
    images = files.map(
        lambda path: preprocess(tf.io.read_file(path), image_size),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    pairs = tf.data.Dataset.zip((images, labels)).cache()
    if shuffle_seed is not None:
        pairs = pairs.shuffle(len(split.files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return pairs.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def image_array(dataset: Dataset, split: Split, image_size: int) -> np.ndarray:
    """A split's preprocessed images as one float32 numpy array [N, H, W, 3]."""
    batches = image_batches(dataset, split, image_size, batch_size=256, shuffle_seed=None)
    return tf.concat([images for images, _ in batches], axis=0).numpy()
