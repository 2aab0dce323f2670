"""Push a built image to a registry by digest: the OCI archive imagebuild saved, unchanged.

`skopeo copy --preserve-digests` keeps the archive's compressed layers, so the registry holds
exactly the manifest digest the build recorded (`archive_digest`); a push that ends with any
other digest is an error. The image is then released as `registry/name@digest`.
"""

import tempfile
from pathlib import Path

from envconfig import REPO_ROOT
from imagebuild.podman import PodmanError, skopeo
from imagebuild.record import ImageInfo


class PushError(RuntimeError):
    """skopeo failed, or the registry holds another digest than the build's."""


def released_image(built: ImageInfo, registry: str) -> ImageInfo:
    """The built image as a cluster pulls it: from `registry`, by the archive's digest."""
    repository = f"{registry}/{built.repository.rsplit('/', 1)[-1]}"
    return built.model_copy(
        update={
            "repository": repository,
            "reference": f"{repository}:{built.tag}",
            "digest": built.archive_digest,
        }
    )


def push_image(
    built: ImageInfo, registry: str, *, insecure: bool = False, credentials: str | None = None
) -> ImageInfo:
    """Copy `built`'s archive to `registry` (tagged as built); return the released image.

    `credentials` (`user:password`) authenticate the push; without them skopeo uses the
    caller's login (`skopeo login`, podman's or docker's auth file)."""
    released = released_image(built, registry)
    archive = Path(built.archive)
    archive = archive if archive.is_absolute() else REPO_ROOT / archive
    with tempfile.TemporaryDirectory() as tmp:
        digest_file = Path(tmp) / "digest"
        tls = ["--dest-tls-verify=false"] if insecure else []
        login = ["--dest-creds", credentials] if credentials else []
        _skopeo(
            "copy", "--quiet", "--preserve-digests", *tls, *login,
            "--digestfile", str(digest_file),
            f"oci-archive:{archive}", f"docker://{released.reference}",
        )  # fmt: skip
        pushed = digest_file.read_text().strip()
    if pushed != released.digest:
        raise PushError(
            f"{released.reference} was pushed as {pushed}, but the build recorded {released.digest}"
        )
    return released


def is_pushed(
    released: ImageInfo, *, insecure: bool = False, credentials: str | None = None
) -> bool:
    """Whether the registry serves `released` by its digest."""
    tls = ["--tls-verify=false"] if insecure else []
    login = ["--creds", credentials] if credentials else []
    try:
        _skopeo(
            "inspect", "--raw", *tls, *login, f"docker://{released.repository}@{released.digest}"
        )
    except PushError:
        return False
    return True


def _skopeo(*args: str) -> str:
    try:
        return skopeo(args)
    except PodmanError as error:
        raise PushError(str(error)) from None
