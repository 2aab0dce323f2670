"""Publishing a version: it is signed as it is published, and the signature covers every file."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelartifact import SIGNATURE_FILE, ArtifactError, ArtifactKeys, load_artifact
from tests.modelartifact.synthetic import facts, write_files
from training.staging import publish

pytestmark = pytest.mark.training

SIGNER = Ed25519PrivateKey.generate()


def test_a_published_version_is_signed_by_the_environments_key(tmp_path: Path) -> None:
    staging = tmp_path / "image-classifier" / ".partial"
    write_files(staging)
    version_dir = publish(staging, tmp_path / "image-classifier", facts(), SIGNER)
    assert version_dir.name == "1" and (version_dir / SIGNATURE_FILE).is_file()
    load_artifact(version_dir, ArtifactKeys(public_key=SIGNER.public_key()))
    other = ArtifactKeys(public_key=Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ArtifactError, match="signed by another key"):
        load_artifact(version_dir, other)
