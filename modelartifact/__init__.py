"""The model artifact, defined once for its writer (training) and readers (imagebuild, service).

A model version is a directory `<base>/<name>/<version>/` (TF Serving's layout) holding the
SavedModel, the LiteRT files and `metadata.json`, whose `files` vouch for every other file by
sha256; `metadata.json.sig` signs it (signing.py), and in an image every other file is
encrypted (encryption.py) with the environment's data key; keystore.py holds the build host's
keys. The service image ships this package beside service/, so it must not import training/,
envconfig/ or anything else outside the image.
"""

from modelartifact.artifact import (
    ArtifactKeys,
    ModelArtifact,
    file_hashes,
    load_artifact,
    sha256_file,
    verify_files,
)
from modelartifact.errors import ArtifactError
from modelartifact.layout import (
    METADATA_FILE,
    MODEL_NAME,
    environment_base,
    is_saved_model_file,
    latest_version_dir,
    model_dir,
    published_versions,
)
from modelartifact.metadata import (
    ACCURACY_TOLERANCE,
    InputSpec,
    LiteRTVariant,
    LiteRTVariants,
    ModelMetadata,
    ModelVersion,
    as_accurate,
    read_metadata,
    write_metadata,
)
from modelartifact.signing import SIGNATURE_FILE, key_id, parse_public_key, public_key_pem

__all__ = [
    "ACCURACY_TOLERANCE",
    "METADATA_FILE",
    "MODEL_NAME",
    "SIGNATURE_FILE",
    "ArtifactError",
    "ArtifactKeys",
    "InputSpec",
    "LiteRTVariant",
    "LiteRTVariants",
    "ModelArtifact",
    "ModelMetadata",
    "ModelVersion",
    "as_accurate",
    "environment_base",
    "file_hashes",
    "is_saved_model_file",
    "key_id",
    "latest_version_dir",
    "load_artifact",
    "model_dir",
    "parse_public_key",
    "public_key_pem",
    "published_versions",
    "read_metadata",
    "sha256_file",
    "verify_files",
    "write_metadata",
]
