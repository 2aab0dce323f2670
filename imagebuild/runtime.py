"""The runtime images: the trimmed base with one backend's virtualenv (Containerfile.runtime).

Each is tagged by a hash of what it is built from (the Containerfile, the base image, the
wheelhouse, the backend) and built only when no image has that tag. Every model version's image
starts from it, so podman neither re-checks nor re-exports the gigabyte of unchanged layers.
"""

import hashlib
import json
from pathlib import Path

from envconfig import REPO_ROOT
from imagebuild.podman import PodmanError, inspect_image, podman
from imagebuild.record import Backend
from ops.toolchain.progress import say, step

RUNTIME_REPOSITORY = "localhost/image-classifier-runtime"
RUNTIME_CONTAINERFILE = REPO_ROOT / "Containerfile.runtime"


def runtime_reference(backend: Backend, base_image_id: str, wheels: Path) -> str:
    """The runtime image's reference: `<backend>-<hash of its inputs>`."""
    recipe = {
        "containerfile": hashlib.sha256(RUNTIME_CONTAINERFILE.read_bytes()).hexdigest(),
        "base_image_id": base_image_id,
        "wheelhouse": wheels.name,
        "backend": backend,
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return f"{RUNTIME_REPOSITORY}:{backend}-{key}"


def ensure_runtime_image(reference: str, backend: Backend, base_image: str) -> None:
    """Build `reference` from the staged wheelhouse unless podman has it already."""
    if inspect_image(reference, "{{.Id}}") is not None:
        say(f"runtime image {reference}: up to date")
        return
    with step(f"podman build {reference} (the {backend} runtime)"):
        podman(
            [
                "build", "--pull=never", "--layers", "--file", str(RUNTIME_CONTAINERFILE),
                "--build-arg", f"BASE_IMAGE={base_image}", "--build-arg", f"BACKEND={backend}",
                "--tag", reference, str(REPO_ROOT),
            ],
            quiet=False,
        )  # fmt: skip
    _remove_older(reference, backend)


def _remove_older(current: str, backend: Backend) -> None:
    """Remove the backend's earlier runtime images; one that a kept image is built on stays."""
    tags = podman(["images", "--format", "{{.Tag}}", RUNTIME_REPOSITORY]).split()
    older = [
        f"{RUNTIME_REPOSITORY}:{tag}"
        for tag in tags
        if tag.startswith(f"{backend}-") and f"{RUNTIME_REPOSITORY}:{tag}" != current
    ]
    if not older:
        return
    try:
        podman(["rmi", *older])
    except PodmanError as error:
        say(f"kept older {backend} runtime tags: {error}")
