"""A verified model version: its signature checked, its files decrypted if they are encrypted,
and every (plaintext) file checked against the sha256 its metadata lists."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelartifact import encryption
from modelartifact.errors import ArtifactError
from modelartifact.layout import METADATA_FILE
from modelartifact.metadata import ModelMetadata, TensorSpec, parse_metadata
from modelartifact.quantization import Quantization
from modelartifact.signing import SIGNATURE_FILE, verify_signature

# Which files of a version a reader needs in plaintext, given its metadata and a relative path.
Wanted = Callable[[ModelMetadata, str], bool]


@dataclass(frozen=True)
class ArtifactKeys:
    """What a reader trusts: a signature by `public_key` (None accepts an unsigned version) and
    `data_key` to decrypt an encrypted one (None: an encrypted version cannot be read)."""

    public_key: Ed25519PublicKey | None = None
    data_key: bytes | None = None


@dataclass(frozen=True)
class ModelArtifact:
    """One verified model version: where it is and what its metadata promises its readers."""

    name: str
    version: int
    path: Path
    classes: tuple[str, ...]
    height: int
    width: int
    litert_int8_file: str
    int8_output: Quantization
    # Test accuracy: the SavedModel in float32 and with bfloat16 inference, and the int8 model
    # run by LiteRT and by OpenVINO (None: not measured).
    accuracy: float
    bf16_accuracy: float | None
    int8_accuracy: float
    openvino_int8_accuracy: float | None

    @property
    def num_classes(self) -> int:
        """How many probabilities the model returns per image."""
        return len(self.classes)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's contents."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def file_hashes(version_dir: Path) -> dict[str, str]:
    """sha256 of every file under `version_dir` but metadata.json, keyed by relative path."""
    return {
        path.relative_to(version_dir).as_posix(): sha256_file(path)
        for path in sorted(version_dir.rglob("*"))
        if path.is_file() and path.name not in (METADATA_FILE, SIGNATURE_FILE)
    }


def verify_files(version_dir: Path, files: dict[str, str]) -> None:
    """Raise ArtifactError unless every listed file exists with the listed sha256."""
    for relative, expected in sorted(files.items()):
        path = version_dir / relative
        if not path.is_file():
            raise ArtifactError(f"{path}: listed in {METADATA_FILE} 'files' but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ArtifactError(
                f"{path}: sha256 {actual} does not match {METADATA_FILE} 'files' ({expected})"
            )


def load_artifact(
    version_dir: Path,
    keys: ArtifactKeys = ArtifactKeys(),  # noqa: B008 (frozen, so one shared default is safe)
    *,
    decrypt_into: Path | None = None,
    wanted: Wanted = lambda metadata, relative: True,
) -> ModelArtifact:
    """Read and verify `<base>/<name>/<version>/`; the directory names the model and version.

    With `keys.public_key` the signature is checked before the metadata is even parsed. An
    encrypted version is decrypted file by file, each plaintext checked against its sha256, and
    the `wanted` ones are written under `decrypt_into`, which the artifact's path then is; a
    clear version is checked and read in place. The directory, not metadata.json, decides the
    version, as TF Serving reads it: a copy of a version under another number serves as that
    number (an encrypted file stays bound to the version it was encrypted for).
    """
    if not version_dir.name.isdigit() or int(version_dir.name) < 1:
        raise ArtifactError(f"{version_dir}: a version directory is named by a number >= 1")
    metadata_path = version_dir / METADATA_FILE
    try:
        content = metadata_path.read_bytes()
    except OSError as error:
        raise ArtifactError(f"{metadata_path}: cannot read metadata: {error}") from None
    if keys.public_key is not None:
        verify_signature(version_dir, content, keys.public_key)
    metadata = parse_metadata(content, metadata_path)
    path = version_dir
    if _encrypted(version_dir, metadata.files):
        if decrypt_into is None:
            raise ArtifactError(f"{version_dir}: encrypted, and no directory to decrypt into")
        _decrypt_files(version_dir, metadata, keys.data_key, decrypt_into, wanted)
        path = decrypt_into
    else:
        verify_files(version_dir, metadata.files)
    return ModelArtifact(
        name=version_dir.parent.name,
        version=int(version_dir.name),
        path=path,
        classes=tuple(metadata.classes),
        height=metadata.input.height,
        width=metadata.input.width,
        litert_int8_file=metadata.litert.int8.file,
        int8_output=_quantization(metadata.litert.int8.output, metadata_path),
        accuracy=metadata.saved_model.accuracy,
        bf16_accuracy=metadata.saved_model.bf16_accuracy,
        int8_accuracy=metadata.litert.int8.accuracy,
        openvino_int8_accuracy=metadata.litert.int8.openvino_accuracy,
    )


def _quantization(tensor: TensorSpec, metadata_path: Path) -> Quantization:
    try:
        return tensor.quantization()
    except ValueError as error:
        raise ArtifactError(f"{metadata_path}: 'litert.int8': {error}") from None


def _encrypted(version_dir: Path, files: dict[str, str]) -> bool:
    """Whether the version's files are encrypted, judged by the first listed file's header."""
    first = version_dir / min(files)
    if not first.is_file():
        return False  # verify_files names the missing file
    with first.open("rb") as stream:
        return encryption.is_encrypted(stream.read(len(encryption.MAGIC)))


def _decrypt_files(
    version_dir: Path, metadata: ModelMetadata, key: bytes | None, into: Path, wanted: Wanted
) -> None:
    for relative, expected in sorted(metadata.files.items()):
        source = version_dir / relative
        if not source.is_file():
            raise ArtifactError(f"{source}: listed in {METADATA_FILE} 'files' but missing")
        plaintext = encryption.decrypt(
            source.read_bytes(), key, metadata.name, metadata.version, relative
        )
        actual = hashlib.sha256(plaintext).hexdigest()
        if actual != expected:
            raise ArtifactError(
                f"{source}: sha256 {actual} of the decrypted file does not match "
                f"{METADATA_FILE} 'files' ({expected})"
            )
        if wanted(metadata, relative):
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(plaintext)
