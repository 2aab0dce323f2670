"""The wheelhouse: the runtime's wheels, fetched once from PyPI per lock and reused offline.

Wheels are chosen for the image's interpreter (CPython 3.11, glibc 2.36 of bookworm), not the
host's. Each backend's full dependency closure is resolved for that platform, every file is
checked against requirements.lock's hashes (pip --require-hashes), and the wheels land in a
cache keyed by the lock; the build context gets hard links and one hash-pinned requirements
file per backend, which the Containerfile installs with `--no-index --require-hashes`.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ops.toolchain.lockfile import LOCK_FILE, Pin, normalize, read_lock
from ops.toolchain.paths import cache_root
from ops.toolchain.progress import say, step

# The service's runtime needs (contract 2); each backend adds its inference library.
COMMON = (
    "flask", "gunicorn", "prometheus-client", "pillow", "numpy", "pydantic", "pyyaml",
    "cryptography",
)  # fmt: skip
BACKENDS: dict[str, tuple[str, ...]] = {
    "tensorflow": ("tensorflow-cpu",),
    "litert": ("ai-edge-litert", "openvino"),
}
# Bookworm has glibc 2.36; pip does not widen a manylinux_2_X platform by itself.
PLATFORMS = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)),
    "manylinux2014_x86_64",
)
IMAGE_TARGET = (
    "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
    *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
)  # fmt: skip


class WheelhouseError(RuntimeError):
    """The lock lacks a runtime package or file hash, or pip could not fetch the wheels."""


def _pip(*args: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PIP_FIND_LINKS"}
    result = subprocess.run([sys.executable, "-m", "pip", *args], env=env, check=False)
    if result.returncode != 0:
        raise WheelhouseError(
            f"pip {args[0]} for the image (CPython 3.11 manylinux x86_64) failed (see pip's"
            " message above); PyPI must be reachable for the first build"
        )


def image_closure(backend: str, pins: dict[str, Pin]) -> list[Pin]:
    """Every package `backend`'s image installs, at the lock's versions, each with the sha256
    of the wheel pip picks for the image's platform."""
    wanted = COMMON + BACKENDS[backend]
    missing = [name for name in wanted if normalize(name) not in pins]
    if missing:
        raise WheelhouseError(f"{LOCK_FILE}: no pin for {', '.join(missing)}; run `make lock`")
    with tempfile.TemporaryDirectory(prefix="closure-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("".join(f"{p.name}=={p.version}\n" for p in pins.values()))
        report = Path(tmp) / "report.json"
        _pip(
            "install", "--quiet", "--dry-run", "--ignore-installed", *IMAGE_TARGET,
            "--target", str(Path(tmp) / "target"), "--report", str(report),
            "--constraint", str(constraints), *wanted,
        )  # fmt: skip
        installs = json.loads(report.read_text())["install"]
    return [
        Pin(
            item["metadata"]["name"],
            item["metadata"]["version"],
            frozenset({item["download_info"]["archive_info"]["hashes"]["sha256"]}),
        )
        for item in installs
    ]


def locked_closure(backend: str, lock: Path = LOCK_FILE) -> list[Pin]:
    """`backend`'s image closure as the lock pins it; WheelhouseError if a file is unlocked."""
    pins = read_lock(lock)
    closure = []
    for found in image_closure(backend, pins):
        pin = pins[normalize(found.name)]
        if pin.version != found.version or not found.hashes <= pin.hashes:
            raise WheelhouseError(
                f"{lock}: the image's {found.name}=={found.version} wheel"
                f" (sha256 {next(iter(found.hashes))}) is not locked; run `make lock`"
            )
        closure.append(pin)
    return closure


def requirements_text(closure: list[Pin]) -> str:
    """A hash-checking requirements file installing exactly `closure`."""
    return "\n".join(pin.requirement() for pin in sorted(closure, key=lambda p: p.name)) + "\n"


def wheelhouse_key(lock: Path = LOCK_FILE) -> str:
    """Cache key: the lock, the package sets and the target platforms."""
    text = "\n".join([lock.read_text(), repr(sorted(BACKENDS.items())), repr(COMMON), *PLATFORMS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_wheelhouse(lock: Path = LOCK_FILE) -> Path:
    """Return the cached wheelhouse for this lock, downloading it first if it is missing.

    It holds the wheels and, under requirements/, one hash-pinned file per backend."""
    directory = cache_root() / "wheelhouse" / f"cp311-{wheelhouse_key(lock)}"
    done = directory / ".complete"
    if done.exists():
        say(f"wheelhouse {directory}: cached")
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "requirements").mkdir(parents=True)
    for backend in BACKENDS:
        with step(f"pip download the {backend} runtime's wheels into {directory}"):
            requirements = directory / "requirements" / f"{backend}.txt"
            requirements.write_text(requirements_text(locked_closure(backend, lock)))
            _pip(
                "download", "--quiet", "--require-hashes", "--no-deps", *IMAGE_TARGET,
                "--requirement", str(requirements), "--dest", str(directory),
            )  # fmt: skip
    done.write_text("\n".join(sorted(path.name for path in directory.glob("*.whl"))) + "\n")
    return directory


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


def write_requirements(wheelhouse: Path, directory: Path) -> None:
    """Put the wheelhouse's hash-pinned `<backend>.txt` files where the Containerfile reads them."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in (wheelhouse / "requirements").glob("*.txt"):
        target = directory / source.name
        if not target.exists() or target.read_text() != source.read_text():
            shutil.copyfile(source, target)
