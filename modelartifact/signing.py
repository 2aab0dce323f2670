"""Signing a model version: Ed25519 over the exact bytes of its metadata.json.

metadata.json lists the sha256 of every other (plaintext) file, so one signature vouches for
the whole version. The signature sits beside it in `metadata.json.sig`, a small JSON object
naming the key that made it, so a reader can tell "signed by another key" from "altered".
"""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from modelartifact.errors import ArtifactError
from modelartifact.layout import METADATA_FILE

SIGNATURE_FILE = f"{METADATA_FILE}.sig"
ALGORITHM = "ed25519"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM text (SubjectPublicKeyInfo), the form the chart carries."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def parse_public_key(pem: bytes, where: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ArtifactError naming `where` if it is not one."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise ArtifactError(f"{where}: not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ArtifactError(f"{where}: not an Ed25519 public key ({type(key).__name__})")
    return key


def sign_version(version_dir: Path, private_key: Ed25519PrivateKey) -> Path:
    """Write `metadata.json.sig` for the version's metadata.json as it is on disk now."""
    signature = private_key.sign((version_dir / METADATA_FILE).read_bytes())
    document = {
        "algorithm": ALGORITHM,
        "key_id": key_id(private_key.public_key()),
        "signature": base64.b64encode(signature).decode(),
    }
    path = version_dir / SIGNATURE_FILE
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def verify_signature(version_dir: Path, metadata: bytes, public_key: Ed25519PublicKey) -> None:
    """Raise ArtifactError naming the cause unless `metadata` (metadata.json's bytes) carries a
    valid signature by `public_key` in the version's metadata.json.sig."""
    path = version_dir / SIGNATURE_FILE
    if not path.is_file():
        raise ArtifactError(f"unsigned model: {path} is missing (a signature is required)")
    try:
        document = json.loads(path.read_text())
        signature = base64.b64decode(document["signature"], validate=True)
        signer = str(document["key_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise ArtifactError(f"bad signature: {path} is not a signature document: {error}") from None
    trusted = key_id(public_key)
    if signer != trusted:
        raise ArtifactError(
            f"signed by another key: {path} names key {signer}, the trusted public key is {trusted}"
        )
    try:
        public_key.verify(signature, metadata)
    except InvalidSignature:
        raise ArtifactError(
            f"bad signature: {version_dir / METADATA_FILE} does not match {path} "
            f"(altered after signing, or signed by another key claiming id {signer})"
        ) from None
