"""The local base image: Debian bookworm's Python 3.11 from debootstrap, imported into podman.

There is no registry here, so the Containerfile's public default base is replaced by an image
made from Debian packages, with the point-release and security updates applied. It is rebuilt
only when its recipe changes (its `updates_as_of` day among it): the recipe's hash is in the
image's label and names the cached root filesystem tarball, beside which the versions of every
installed package are recorded (each image's SBOM lists them).
"""

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from imagebuild.podman import inspect_image, podman
from ops.toolchain.paths import cache_root
from ops.toolchain.progress import say, step

BASE_IMAGE = "localhost/debian-python:3.11-bookworm-local"
RECIPE_LABEL = "io.image-classifier.base-recipe"
CHROOT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


@dataclass(frozen=True)
class BaseRecipe:
    """Everything that decides the base image's content."""

    suite: str = "bookworm"
    variant: str = "minbase"
    mirror: str = "http://deb.debian.org/debian"
    security_mirror: str = "http://deb.debian.org/debian-security"
    # The day the updates (bookworm-updates, bookworm-security) were taken: bump it to take
    # newer fixes; the base and every image are rebuilt, and the SBOM says what changed.
    updates_as_of: str = "2026-11-30"
    packages: tuple[str, ...] = ("python3.11", "python3-venv", "ca-certificates")
    # Python finds its certificates, logs go straight out, no .pyc written at run time.
    environment: tuple[str, ...] = (
        "LANG=C.UTF-8",
        "PYTHONUNBUFFERED=1",
        "PYTHONDONTWRITEBYTECODE=1",
    )

    def digest(self) -> str:
        """A short hash of the recipe: the cache key of the rootfs and the image label."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


RECIPE = BaseRecipe()


@dataclass(frozen=True)
class DebPackage:
    """One package installed in the base image."""

    name: str
    version: str
    architecture: str


def _rootfs(recipe: BaseRecipe) -> Path:
    return cache_root() / "base" / f"{recipe.suite}-{recipe.digest()}" / "rootfs.tar"


def base_packages(recipe: BaseRecipe = RECIPE) -> list[DebPackage]:
    """The Debian packages of the base image, as recorded when its rootfs was made."""
    listing = _rootfs(recipe).with_name("packages.tsv")
    return [DebPackage(*line.split("\t")) for line in listing.read_text().splitlines() if line]


def ensure_base_image(recipe: BaseRecipe = RECIPE) -> str:
    """Return the local base image's name, importing (or first debootstrapping) it if needed."""
    key = recipe.digest()
    if inspect_image(BASE_IMAGE, f'{{{{index .Labels "{RECIPE_LABEL}"}}}}') == key:
        say(f"base image {BASE_IMAGE}: up to date (recipe {key})")
        return BASE_IMAGE
    rootfs = _rootfs(recipe)
    if not rootfs.exists():
        _debootstrap(recipe, rootfs)
    with step(f"podman import {rootfs.name} as {BASE_IMAGE}"):
        changes = [f"ENV {item}" for item in recipe.environment]
        changes += [f"LABEL {RECIPE_LABEL}={key}", 'CMD ["python3"]']
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        podman([*args, str(rootfs), BASE_IMAGE])
    return BASE_IMAGE


def _debootstrap(recipe: BaseRecipe, rootfs: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed: run `make system` (as root)")
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=rootfs.parent) as scratch:
        target = Path(scratch) / "rootfs"
        with step(f"debootstrap {recipe.variant} {recipe.suite} with {' '.join(recipe.packages)}"):
            subprocess.run(
                [
                    "debootstrap",
                    f"--variant={recipe.variant}",
                    f"--include={','.join(recipe.packages)}",
                    recipe.suite,
                    str(target),
                    recipe.mirror,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        _apply_updates(recipe, target)
        _record_packages(target, rootfs.with_name("packages.tsv"))
        # apt's lists and package cache are only download leftovers.
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for path in (target / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = rootfs.with_suffix(".tar.partial")
        with step(f"tar the root filesystem into {rootfs}"):
            subprocess.run(
                ["tar", "--numeric-owner", "-C", str(target), "-cf", str(partial), "."],
                check=True,
            )
        partial.rename(rootfs)


def _apply_updates(recipe: BaseRecipe, target: Path) -> None:
    """Point the rootfs at the suite, its updates and its security suite, and upgrade."""
    (target / "etc/apt/sources.list").write_text(
        f"deb {recipe.mirror} {recipe.suite} main\n"
        f"deb {recipe.mirror} {recipe.suite}-updates main\n"
        f"deb {recipe.security_mirror} {recipe.suite}-security main\n"
    )
    resolv = target / "etc/resolv.conf"
    shutil.copyfile("/etc/resolv.conf", resolv)
    try:
        with step(f"apt-get upgrade in the rootfs ({recipe.suite}-updates, -security)"):
            for command in (["update"], ["--yes", "upgrade"], ["clean"]):
                subprocess.run(
                    ["chroot", str(target), "apt-get", "--quiet", *command],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    env={
                        "DEBIAN_FRONTEND": "noninteractive",
                        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                    },
                )
    finally:
        resolv.unlink()


def _record_packages(target: Path, listing: Path) -> None:
    """Write `name\tversion\tarchitecture` of every package installed in the rootfs."""
    result = subprocess.run(
        [
            "dpkg-query", f"--admindir={target / 'var/lib/dpkg'}", "--show",
            "--showformat=${Package}\t${Version}\t${Architecture}\n",
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    listing.write_text(result.stdout)
