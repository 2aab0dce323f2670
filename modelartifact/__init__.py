"""The model artifact, defined once for its writer (training) and readers (imagebuild, service).

A model version is a directory `<base>/<name>/<version>/` (TF Serving's layout) holding the
SavedModel, the LiteRT files and `metadata.json`, whose `files` vouch for every other file by
sha256. The service image ships this package beside service/, so it must not import training/,
envconfig/ or anything else outside the image.
"""

from modelartifact.artifact import (
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
    latest_version_dir,
    model_dir,
    published_versions,
)
from modelartifact.metadata import (
    InputSpec,
    LiteRTVariant,
    LiteRTVariants,
    ModelMetadata,
    ModelVersion,
    read_metadata,
    write_metadata,
)

__all__ = [
    "METADATA_FILE",
    "MODEL_NAME",
    "ArtifactError",
    "InputSpec",
    "LiteRTVariant",
    "LiteRTVariants",
    "ModelArtifact",
    "ModelMetadata",
    "ModelVersion",
    "environment_base",
    "file_hashes",
    "latest_version_dir",
    "load_artifact",
    "model_dir",
    "published_versions",
    "read_metadata",
    "sha256_file",
    "verify_files",
    "write_metadata",
]
