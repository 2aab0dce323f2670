"""Model store: pick the version to serve under MODEL_BASE_PATH, then open it verified.

The layout, metadata schema, signature and encryption rules are modelartifact's; this module
adds only the service's choice (MODEL_VERSION, else the newest), the keys from its settings,
where an encrypted model is decrypted (a private directory in the memory-backed /tmp, removed
once the backend has loaded), and errors naming its settings.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelartifact import (
    ArtifactError,
    ArtifactKeys,
    ModelArtifact,
    is_saved_model_file,
    model_dir,
    parse_public_key,
    published_versions,
)
from modelartifact import load_artifact as load_version
from modelartifact.artifact import Wanted
from modelartifact.encryption import parse_data_key
from service.settings import Backend, Settings


def locate(base: Path, name: str, version: int | None) -> Path:
    """The version directory to serve: `version` if given, else the highest one."""
    directory = model_dir(base, name)
    versions = published_versions(directory)
    if not versions:
        raise ArtifactError(f"no versions of model {name!r} under {directory} (MODEL_BASE_PATH)")
    if version is None:
        return directory / str(versions[-1])
    if version not in versions:
        raise ArtifactError(
            f"MODEL_VERSION={version}: no such version under {directory} (found {versions})"
        )
    return directory / str(version)


def load_artifact(base: Path, name: str, version: int | None) -> ModelArtifact:
    """Locate a clear version and verify it in place, without keys (host tools such as bench)."""
    return load_version(locate(base, name, version))


def artifact_keys(settings: Settings) -> ArtifactKeys:
    """The keys the settings name, read and parsed; ArtifactError naming the setting if not."""
    public_key = None
    if settings.model_public_key_file is not None:
        setting = f"MODEL_PUBLIC_KEY_FILE={settings.model_public_key_file}"
        public_key = parse_public_key(_read(settings.model_public_key_file, setting), setting)
    elif settings.model_require_signature:
        raise ArtifactError(
            "missing public key: MODEL_REQUIRE_SIGNATURE is true but MODEL_PUBLIC_KEY_FILE is "
            "not set, so no signature can be verified"
        )
    data_key = None
    if settings.model_key_file is not None:
        setting = f"MODEL_KEY_FILE={settings.model_key_file}"
        text = _read(settings.model_key_file, setting).decode("latin-1")
        data_key = parse_data_key(text, setting)
    return ArtifactKeys(public_key=public_key, data_key=data_key)


def backend_files(backend: Backend) -> Wanted:
    """The files the backend reads: the int8 .tflite for LiteRT and OpenVINO, the SavedModel
    for TF."""
    if backend in (Backend.LITERT, Backend.OPENVINO):
        return lambda metadata, relative: relative == metadata.litert.int8.file
    return lambda metadata, relative: is_saved_model_file(relative)


@contextmanager
def open_artifact(settings: Settings) -> Iterator[ModelArtifact]:
    """The configured version, signature and checksums verified; an encrypted one decrypted
    into a private directory under the temporary directory (/tmp), removed on exit."""
    keys = artifact_keys(settings)
    version_dir = locate(settings.model_base_path, settings.model_name, settings.model_version)
    plain = Path(tempfile.mkdtemp(prefix="model-"))  # mode 0700: this worker's alone
    try:
        yield load_version(
            version_dir,
            keys,
            decrypt_into=plain,
            wanted=backend_files(settings.model_backend),
        )
    finally:
        shutil.rmtree(plain, ignore_errors=True)


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ArtifactError(f"missing key: {setting}: {error.strerror}") from None
