"""The embedded offline dataset: scikit-learn's handwritten digits as class-per-folder PNGs.

`python -m training.digits DIR` writes DIR/<digit>/<index>.png (1797 images, 10 classes),
each 8x8 image scaled to 32x32 RGB.
"""

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

PNG_SIZE = 32
# load_digits pixels are ink intensities 0..16.
MAX_INTENSITY = 16


def write_digits(root: Path) -> int:
    """Write the digits under `root` (which must not exist) and return how many images."""
    if root.exists():
        raise FileExistsError(f"{root} already exists; remove it or pick another directory")
    digits = load_digits()
    partial = root.with_name(f".{root.name}.partial-{os.getpid()}")
    for index, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        grey = np.round(pixels * (255 / MAX_INTENSITY)).astype(np.uint8)
        image = Image.fromarray(grey).resize((PNG_SIZE, PNG_SIZE), Image.Resampling.BILINEAR)
        class_dir = partial / str(label)
        class_dir.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(class_dir / f"{index:04d}.png")
    try:
        partial.rename(root)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return len(digits.images)


def main() -> None:
    """Command line: materialise the digits into the given directory."""
    parser = argparse.ArgumentParser(prog="python -m training.digits", description=__doc__)
    parser.add_argument("root", type=Path, help="directory to create, e.g. data/digits")
    root = parser.parse_args().root
    count = write_digits(root)
    print(f"wrote {count} digit images to {root}")


if __name__ == "__main__":
    main()
