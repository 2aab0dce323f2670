"""Small real image datasets written to disk for the training tests."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_dataset(root: Path, classes: dict[str, int], size: int = 12) -> Path:
    """Write `root/<class>/<i>.png` random RGB images, `classes[name]` of each; return root."""
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    return root
