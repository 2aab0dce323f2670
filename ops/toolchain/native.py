"""The service's native resize kernel: service/native/resize.c -> libresize.so, with gcc.

Built in place (the image copies service/ with it) when the library is missing or older than
its source; the system gcc comes from `make system` (DEBIAN_PACKAGES)."""

import shutil
import subprocess
from pathlib import Path

from ops.toolchain.progress import say, step

SOURCE = Path(__file__).resolve().parents[2] / "service" / "native" / "resize.c"
LIBRARY = SOURCE.with_name("libresize.so")
# -ffp-contract=off: no fused multiply-add, so each float32 operation rounds as in TensorFlow.
# Baseline x86-64 instructions (no -march): the image runs on any x86-64 node. -s and a
# relative source name: the same bytes from every clone, so the image's layer cache holds.
GCC_FLAGS = ("-O3", "-ffp-contract=off", "-fPIC", "-shared", "-s", "-Wall", "-Wextra", "-Werror")


class NativeBuildError(RuntimeError):
    """gcc is missing or refused the source."""


def build_native(source: Path = SOURCE) -> Path:
    """Compile the kernel beside its source unless the library is newer; the library's path."""
    library = source.with_name(LIBRARY.name)
    if library.exists() and library.stat().st_mtime >= source.stat().st_mtime:
        say(f"native resize kernel: up to date in {library.parent}")
        return library
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NativeBuildError("gcc is missing: `make system` installs it (Debian's gcc)")
    building = library.with_suffix(".so.tmp")
    with step(f"native resize kernel: gcc {source.name}"):
        compiled = subprocess.run(
            [gcc, *GCC_FLAGS, "-o", building.name, source.name],
            cwd=source.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        if compiled.returncode != 0:
            raise NativeBuildError(f"gcc failed on {source}:\n{compiled.stderr}")
        building.replace(library)  # atomic: a concurrent reader sees the old or the new file
    return library
