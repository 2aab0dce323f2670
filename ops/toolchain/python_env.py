"""The project's virtualenv: built from requirements.lock into a cache keyed by its hash.

The repository's `.venv` is a symlink to it, so a fresh clone with the same lock file is
ready in a second. The project itself is not installed into it (the venv is shared by clones);
commands run from the repository root, which is on sys.path.
"""

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ops.toolchain.lockfile import Pin, format_lock, normalize
from ops.toolchain.paths import cache_root
from ops.toolchain.progress import say, step

PIP_VERSION = "25.2"


def venv_dir(lock_file: Path) -> Path:
    digest = hashlib.sha256(lock_file.read_bytes()).hexdigest()[:16]
    return cache_root() / "venvs" / f"py{sys.version_info.major}{sys.version_info.minor}-{digest}"


def ensure_venv(repo: Path) -> Path:
    """Create (or reuse) the venv for repo/requirements.lock and point repo/.venv at it."""
    lock_file = repo / "requirements.lock"
    target = venv_dir(lock_file)
    stamp = target / ".complete"
    if stamp.exists():
        say(f"python venv: cached in {target}")
    else:
        with step(f"python venv from {lock_file.name} into {target}"):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(target)], check=True)
            pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
            subprocess.run([*pip, f"pip=={PIP_VERSION}"], check=True)
            # Every file checked against the lock's sha256 (a tampered wheel is refused).
            locked = ["--require-hashes", "--no-deps", "-r", str(lock_file)]
            subprocess.run([*pip, *locked], check=True)
            stamp.write_text(lock_file.read_text())
    link = repo / ".venv"
    if link.is_symlink() or not link.exists():
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    elif link.resolve() != target.resolve():
        raise RuntimeError(
            f"{link} is a real directory; remove it so setup can link the shared venv"
        )
    return target


def write_lock(repo: Path) -> None:
    """Resolve pyproject.toml (all extras) in a scratch venv and write requirements.lock with
    the sha256 of this host's wheels and of the image's (its platform may pick other files)."""
    # The image's runtime sets and platform; imported here because setup runs this module
    # with the system's Python before the venv (which imagebuild needs) exists.
    from imagebuild import wheelhouse

    pyproject = repo / "pyproject.toml"
    extras = "service,litert,openvino,training,infra,dev"
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp, step("resolve requirements.lock"):
        scratch = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True)
        pip = [str(scratch / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", f"pip=={PIP_VERSION}"], check=True)
        report = Path(tmp) / "report.json"
        subprocess.run(
            [
                *pip, "install", "-q", "--dry-run", "--ignore-installed", "--report",
                str(report), f"{pyproject.parent}[{extras}]",
            ],
            check=True,
        )  # fmt: skip
        pins = {
            normalize(item["metadata"]["name"]): Pin(
                item["metadata"]["name"],
                item["metadata"]["version"],
                frozenset({item["download_info"]["archive_info"]["hashes"]["sha256"]}),
            )
            for item in json.loads(report.read_text())["install"]
            if item["metadata"]["name"] != "image-classifier-platform"
        }
    for backend in wheelhouse.BACKENDS:
        for found in wheelhouse.image_closure(backend, pins):
            pin = pins[normalize(found.name)]
            pins[normalize(found.name)] = Pin(pin.name, pin.version, pin.hashes | found.hashes)
    (repo / "requirements.lock").write_text(format_lock(pins))
