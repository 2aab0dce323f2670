"""The wheelhouse: the runtime's wheels, fetched once from PyPI per lock and reused offline.

Wheels are chosen for the image's interpreter (CPython 3.11, glibc 2.36 of bookworm), not the
host's, and downloaded into a cache keyed by requirements.lock; the build context gets hard
links, and the Containerfile installs them with `pip install --no-index`.
"""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from envconfig import REPO_ROOT
from ops.toolchain.paths import cache_root
from ops.toolchain.progress import say, step

LOCK_FILE = REPO_ROOT / "requirements.lock"
# The service's runtime needs (contract 2); each backend adds its inference library.
COMMON = (
    "flask", "gunicorn", "prometheus-client", "pillow", "numpy", "pydantic", "pyyaml",
    "cryptography",
)  # fmt: skip
BACKENDS: dict[str, tuple[str, ...]] = {
    "tensorflow": ("tensorflow-cpu",),
    "litert": ("ai-edge-litert",),
}
# Bookworm has glibc 2.36; pip does not widen a manylinux_2_X platform by itself.
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)),
    "manylinux2014_x86_64",
)


class WheelhouseError(RuntimeError):
    """The lock lacks a runtime package, or pip could not fetch the wheels."""


def normalize(name: str) -> str:
    """PEP 503 name, so `prometheus_client` in the lock matches `prometheus-client`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(lock: Path = LOCK_FILE) -> dict[str, str]:
    """The lock's pins: normalized name -> version."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        if not separator:
            raise WheelhouseError(f"{lock}: {line!r} is not pinned as NAME==VERSION")
        pins[normalize(name.split("[", 1)[0])] = version.strip()
    return pins


def requirements(backend: str, pins: dict[str, str]) -> list[str]:
    """The pinned top-level requirements of one backend's image."""
    wanted = COMMON + BACKENDS[backend]
    missing = [name for name in wanted if normalize(name) not in pins]
    if missing:
        raise WheelhouseError(f"{LOCK_FILE}: no pin for {', '.join(missing)}; run `make lock`")
    return [f"{name}=={pins[normalize(name)]}" for name in wanted]


def wheelhouse_key(lock: Path = LOCK_FILE) -> str:
    """Cache key: the lock, the package sets and the target platforms."""
    text = "\n".join([lock.read_text(), repr(sorted(BACKENDS.items())), repr(COMMON), *PLATFORMS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_wheelhouse(lock: Path = LOCK_FILE) -> Path:
    """Return the cached wheelhouse for this lock, downloading it first if it is missing."""
    directory = cache_root() / "wheelhouse" / f"cp311-{wheelhouse_key(lock)}"
    done = directory / ".complete"
    if done.exists():
        say(f"wheelhouse {directory}: cached")
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    pins = read_lock(lock)
    for backend in BACKENDS:
        with step(f"pip download the {backend} runtime's wheels into {directory}"):
            _download(requirements(backend, pins), lock, directory)
    done.write_text("\n".join(sorted(path.name for path in directory.glob("*.whl"))) + "\n")
    return directory


def _download(packages: list[str], lock: Path, directory: Path) -> None:
    platform_args = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    command = [
        sys.executable, "-m", "pip", "download", "--quiet",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
        "--abi", "cp311", *platform_args,
        "--constraint", str(lock), "--dest", str(directory), *packages,
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "PIP_FIND_LINKS"}
    result = subprocess.run(command, env=env, check=False)
    if result.returncode != 0:
        raise WheelhouseError(
            f"pip could not download {' '.join(packages)} for CPython 3.11 manylinux x86_64 "
            "(see pip's message above); PyPI must be reachable for the first build"
        )


def link_into(wheelhouse: Path, target: Path) -> None:
    """Make `target` hold exactly the wheelhouse's wheels, as hard links (no copying)."""
    target.mkdir(parents=True, exist_ok=True)
    wheels = {path.name: path for path in wheelhouse.glob("*.whl")}
    for stale in target.iterdir():
        if stale.name not in wheels:
            stale.unlink()
    for name, source in wheels.items():
        link = target / name
        if not link.exists():
            os.link(source, link)


def write_requirements(directory: Path, lock: Path = LOCK_FILE) -> None:
    """Write one `<backend>.txt` per backend for the Containerfile's pip install."""
    directory.mkdir(parents=True, exist_ok=True)
    pins = read_lock(lock)
    for backend in BACKENDS:
        text = "\n".join(requirements(backend, pins)) + "\n"
        path = directory / f"{backend}.txt"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
