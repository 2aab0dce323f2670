"""Build an environment's two images (TensorFlow, and slim int8 with LiteRT and OpenVINO),
save them, record them.

The build is skipped when the record's inputs hash matches and its images are still in
podman's storage; otherwise podman builds the model's and the service's layers on the
variant's runtime image (imagebuild/runtime.py), which is built only when its inputs change.
"""

import fcntl
import hashlib
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from envconfig import REPO_ROOT
from imagebuild import base, sbom, wheelhouse
from imagebuild.podman import PodmanError, inspect_image, podman, skopeo
from imagebuild.record import (
    Backend,
    ImageInfo,
    ImageRecord,
    ModelAccuracy,
    ModelKeys,
    RecordError,
    read_record,
    write_record,
)
from imagebuild.runtime import ensure_runtime_image, runtime_reference
from modelartifact import (
    ArtifactError,
    ArtifactKeys,
    ModelArtifact,
    as_accurate,
    key_id,
    load_artifact,
    public_key_pem,
)
from modelartifact.encryption import data_key_id, encrypt_version
from modelartifact.keystore import KeyStore
from ops.toolchain.lockfile import parse_lock
from ops.toolchain.native import LIBRARY, build_native
from ops.toolchain.progress import say, step
from service.settings import Backend as ModelBackend
from training.ensure import MODELS_DIR, latest_trained

REPOSITORY = "localhost/image-classifier"
CONTAINERFILE = REPO_ROOT / "Containerfile"
CONTAINERIGNORE = REPO_ROOT / ".containerignore"
# The Python packages the Containerfile copies into /app.
APP_DIR = PurePosixPath("/app")
IMAGE_PACKAGES = (REPO_ROOT / "service", REPO_ROOT / "modelartifact")
INPUTS_DIR = REPO_ROOT / "build" / "image-inputs"
IMAGES_DIR = REPO_ROOT / "build" / "images"
# Variant -> (Containerfile BACKEND: the runtime installed, tag suffix, archive suffix).
VARIANTS: dict[str, tuple[Backend, str, str]] = {
    "image": ("tensorflow", "", ""),
    "slim": ("litert", "-slim", "-slim"),
}


def own_backend(variant: str, artifact: ModelArtifact) -> ModelBackend:
    """The image's own MODEL_BACKEND: the fastest accurate backend of its runtime. TensorFlow
    bfloat16 (the service falls back to float32 on a CPU without it); in the slim image
    OpenVINO (about twice LiteRT's speed on the same int8 file) when training measured it as
    accurate as float32, else LiteRT."""
    if variant == "image":
        return ModelBackend.TENSORFLOW_BF16
    openvino = artifact.openvino_int8_accuracy
    accurate = openvino is not None and as_accurate(openvino, artifact.accuracy)
    return ModelBackend.OPENVINO if accurate else ModelBackend.LITERT


@dataclass(frozen=True)
class Revision:
    """The commit the image is built from: its short sha, commit time and origin."""

    sha: str
    created: str
    source: str


def git_revision() -> Revision:
    """HEAD's short sha and commit time (not the build time, so rebuilds are identical)."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    sha = git("rev-parse", "--short=12", "HEAD")
    if not sha:
        raise RuntimeError(
            f"{REPO_ROOT} is not a git checkout with a commit: the tag needs HEAD's sha"
        )
    created = git("show", "-s", "--format=%cI", "HEAD")
    return Revision(
        sha=sha, created=created, source=git("config", "remote.origin.url") or "unknown"
    )


def latest_model(env: str, keys: KeyStore) -> ModelArtifact:
    """The environment's newest published version, its signature by the environment's key and
    its files checked (an unsigned one is refused: every image's model is signed)."""
    path = latest_trained(env)
    if path is None:
        raise ArtifactError(
            f"no trained model under {MODELS_DIR / env}: run `make train ENV={env}` first"
        )
    try:
        return load_artifact(path, ArtifactKeys(public_key=keys.public_key()))
    except ArtifactError as error:
        raise ArtifactError(
            f"{error}; `make train ENV={env}` publishes a version signed by {keys.directory}"
        ) from None


def model_keys(keys: KeyStore) -> ModelKeys:
    """What the record says of the keys: the public key and the two key ids."""
    public_key = keys.public_key()
    return ModelKeys(
        public_key=public_key_pem(public_key),
        signing_key_id=key_id(public_key),
        data_key_id=data_key_id(keys.data_key()),
    )


@contextmanager
def build_lock(env: str) -> Iterator[None]:
    """Hold `env`'s build lock: builds of one environment (and readers that need its record and
    archives to agree) run one at a time; podman save is not byte-reproducible."""
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    with (IMAGES_DIR / f".{env}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_environment(env: str, *, force: bool = False) -> ImageRecord:
    """Make env's images and record; `force` runs podman build even when the record is current."""
    with build_lock(env):
        return _build_environment(env, force=force)


def _build_environment(env: str, *, force: bool) -> ImageRecord:
    keys = KeyStore.of(env)
    artifact = latest_model(env, keys)
    protection = model_keys(keys)
    revision = git_revision()
    build_native()  # service/ carries its compiled resize kernel into the image
    base_image = base.ensure_base_image()
    wheels = wheelhouse.ensure_wheelhouse()
    base_image_id = inspect_image(base_image, "{{.Id}}")
    if base_image_id is None:
        raise RuntimeError(f"the base image {base_image} is not in podman's storage")
    runtimes = {
        variant: runtime_reference(backend, base_image_id, wheels)
        for variant, (backend, *_) in VARIANTS.items()
    }
    inputs = inputs_sha256(env, artifact, protection, revision, runtimes)
    if not force:
        current = _current_record(env, inputs)
        if current is not None:
            say(f"image record build/images/{env}.json: up to date (inputs {inputs[:12]})")
            return current
    model_dir = _stage_inputs(env, artifact, keys.data_key(), wheels)
    for variant, runtime in runtimes.items():
        ensure_runtime_image(runtime, VARIANTS[variant][0], base_image)
    images = {
        variant: _build_variant(
            env, variant, artifact, protection, revision, runtime, model_dir, wheels
        )
        for variant, runtime in runtimes.items()
    }
    record = ImageRecord(
        environment=env,
        revision=revision.sha,
        inputs_sha256=inputs,
        accuracy=ModelAccuracy(float32=artifact.accuracy, int8=artifact.int8_accuracy),
        image=images["image"],
        slim=images["slim"],
    )
    path = write_record(record)
    _remove_superseded(env, keep={record.image.tag, record.slim.tag})
    for info in (record.image, record.slim):
        say(f"{info.reference}@{info.digest}: {info.size_bytes / 1e6:.0f} MB ({info.backend})")
    say(f"wrote {path.relative_to(REPO_ROOT)}")
    return record


def _remove_superseded(env: str, keep: set[str]) -> None:
    """Untag env's older builds but the one before this (a rollback's), so repeated builds do
    not fill the disk; layers the remaining images or the build cache use stay."""
    listed = podman(["images", "--format", "{{.Tag}} {{.CreatedAt}}", REPOSITORY]).splitlines()
    tags = [line.split(" ", 1) for line in listed if line.startswith(f"{env}-")]
    builds = sorted(
        {tag.removesuffix("-slim"): created for tag, created in tags}.items(),
        key=lambda build: build[1],
        reverse=True,
    )
    current = {tag.removesuffix("-slim") for tag in keep}
    previous = [build for build, _ in builds if build not in current][:1]
    stale = [tag for tag, _ in tags if tag.removesuffix("-slim") not in current | set(previous)]
    if not stale:
        return
    try:
        podman(["rmi", *(f"{REPOSITORY}:{tag}" for tag in stale)])
    except PodmanError as error:  # e.g. a container still runs one: keep it, the build stands
        say(f"kept superseded {env} images: {error}")
        return
    say(f"removed {len(stale)} superseded {env} image tags (kept this build and the previous)")


def inputs_sha256(
    env: str,
    artifact: ModelArtifact,
    protection: ModelKeys,
    revision: Revision,
    runtimes: dict[str, str],
) -> str:
    """One hash over everything that goes into the images and their tags (a runtime image's
    reference is a hash of the base image, wheelhouse and backend it is built from)."""
    parts = {
        "environment": env,
        "containerfile": _file_hash(CONTAINERFILE),
        "containerignore": _file_hash(CONTAINERIGNORE),
        "packages": {package.name: _tree_hash(package) for package in IMAGE_PACKAGES},
        "model": _tree_hash(artifact.path),
        "model_version": artifact.version,
        "model_keys": protection.model_dump(),
        "runtime_images": runtimes,
        "revision": [revision.sha, revision.created, revision.source],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _current_record(env: str, inputs: str) -> ImageRecord | None:
    try:
        record = read_record(env)
    except RecordError:
        return None
    if record.inputs_sha256 != inputs:
        return None
    for info in (record.image, record.slim):
        if (
            not (REPO_ROOT / info.archive).is_file()
            or inspect_image(info.reference, "{{.Id}}") != info.image_id
        ):
            return None
    return record


def _stage_inputs(env: str, artifact: ModelArtifact, data_key: bytes, wheels: Path) -> Path:
    """Fill build/image-inputs/: wheels as hard links, the model encrypted with the data key
    (the host's models/ stay clear for evaluation and bench; the image gets ciphertext only)."""
    wheelhouse.link_into(wheels, INPUTS_DIR / "wheelhouse")
    wheelhouse.write_requirements(wheels, INPUTS_DIR / "requirements")
    model_dir = INPUTS_DIR / "models" / env
    shutil.rmtree(model_dir, ignore_errors=True)
    encrypt_version(artifact.path, model_dir, data_key)
    return model_dir


def _build_variant(
    env: str,
    variant: str,
    artifact: ModelArtifact,
    protection: ModelKeys,
    revision: Revision,
    runtime_image: str,
    model_dir: Path,
    wheels: Path,
) -> ImageInfo:
    backend, tag_suffix, archive_suffix = VARIANTS[variant]
    # Model versions count per environment: the environment keeps equal versions apart.
    tag = f"{env}-{artifact.version}-{revision.sha}{tag_suffix}"
    reference = f"{REPOSITORY}:{tag}"
    build_args = {
        "RUNTIME_IMAGE": runtime_image,
        "BACKEND": backend,
        "MODEL_BACKEND": str(own_backend(variant, artifact).value),
        "MODEL_DIR": str(model_dir.relative_to(REPO_ROOT)),
        "MODEL_VERSION": artifact.version,
        "REVISION": revision.sha,
        "CREATED": revision.created,
        "SOURCE": revision.source,
    }
    # Also given as --label: podman 4.3's layer cache ignores ARG values in a LABEL step, so
    # a new revision alone would otherwise reuse the previous image with its old labels.
    labels = {
        "org.opencontainers.image.version": artifact.version,
        "org.opencontainers.image.revision": revision.sha,
        "org.opencontainers.image.created": revision.created,
        "org.opencontainers.image.source": revision.source,
    }
    args = ["build", "--pull=never", "--layers", "--file", str(CONTAINERFILE), "--tag", reference]
    for name, value in build_args.items():
        args += ["--build-arg", f"{name}={value}"]
    for name, value in labels.items():
        args += ["--label", f"{name}={value}"]
    with step(f"podman build {reference} ({backend})"):
        podman([*args, str(REPO_ROOT)], quiet=False)
    inspected = json.loads(podman(["image", "inspect", reference]))[0]
    archive = IMAGES_DIR / f"{env}{archive_suffix}.oci.tar"
    _save(reference, inspected["Id"], archive)
    closure = parse_lock((wheels / "requirements" / f"{backend}.txt").read_text())
    bom = sbom.cyclonedx(
        reference,
        inspected["Digest"],
        revision.created,
        base.base_packages(),
        closure.values(),
        {in_image(LIBRARY): LIBRARY},
        artifact,
    )
    bom_path = sbom.write_sbom(bom, IMAGES_DIR / f"{env}{archive_suffix}.sbom.cdx.json")
    return ImageInfo(
        reference=reference,
        repository=REPOSITORY,
        tag=tag,
        digest=inspected["Digest"],
        archive_digest=_archive_digest(archive),
        image_id=inspected["Id"],
        backend=backend,
        model_version=artifact.version,
        model_keys=protection,
        size_bytes=int(inspected["Size"]),
        archive=str(archive.relative_to(REPO_ROOT)),
        sbom=str(bom_path.relative_to(REPO_ROOT)),
    )


def _save(reference: str, image_id: str, archive: Path) -> None:
    """Save the image as an OCI archive with zstd layers, unless the archive already holds it.

    zstd rather than podman save's gzip: the archive is 15 % smaller and a node unpacks it
    about a third faster (measured with containerd: 11.8 s against 18.9 s for the TensorFlow
    image); containerd, CNCF Distribution and the cloud registries take zstd layers."""
    name = archive.relative_to(REPO_ROOT)
    if archive.is_file() and _archive_holds(archive, reference, image_id):
        say(f"{name}: already holds {reference}")
        return
    with step(f"skopeo copy {reference} to {name} (zstd layers)"):
        IMAGES_DIR.mkdir(parents=True, exist_ok=True)
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        skopeo(
            [
                "copy", "--quiet", "--dest-compress-format", "zstd",
                f"containers-storage:{reference}", f"oci-archive:{partial}:{reference}",
            ]
        )  # fmt: skip
        partial.rename(archive)


def _archive_holds(archive: Path, reference: str, image_id: str) -> bool:
    """Whether the archive is this image under this name (its config blob is the image id)."""
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        member = tar.extractfile("index.json") if "index.json" in names else None
        index = json.load(member) if member is not None else {"manifests": []}
    named = [
        m.get("annotations", {}).get("org.opencontainers.image.ref.name")
        for m in index["manifests"]
    ]
    return named == [reference] and f"blobs/sha256/{image_id}" in names


def _archive_digest(archive: Path) -> str:
    """The digest of the one manifest listed in an OCI archive's index.json."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("index.json")
        if member is None:
            raise RuntimeError(f"{archive}: no index.json, not an OCI archive")
        manifests = json.load(member)["manifests"]
    if len(manifests) != 1:
        raise RuntimeError(
            f"{archive}: expected one manifest in index.json, found {len(manifests)}"
        )
    return str(manifests[0]["digest"])


def in_image(path: Path) -> str:
    """Where a file of IMAGE_PACKAGES lands in the image."""
    return str(APP_DIR / path.relative_to(REPO_ROOT).as_posix())


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hash(directory: Path) -> str:
    """Hash of a directory's file names and contents, skipping what .containerignore skips."""
    if not directory.is_dir():
        raise RuntimeError(f"{directory} is missing: the image copies it")
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(_file_hash(path).encode())
    return digest.hexdigest()
