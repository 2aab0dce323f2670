"""Encryption at rest of a model version's files: AES-256-GCM with a per-environment data key.

An encrypted file is `MAGIC | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag`. The
associated data binds it to the model name, version and relative path, so a file moved to
another path or version fails authentication. metadata.json and its signature stay clear:
they hold no weights, and the signature is checked before anything is decrypted.
"""

import base64
import binascii
import hashlib
import hmac
import shutil
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from modelartifact.errors import ArtifactError
from modelartifact.layout import METADATA_FILE
from modelartifact.metadata import read_metadata
from modelartifact.signing import SIGNATURE_FILE

DATA_KEY_BYTES = 32
MAGIC = b"ICMENC1\n"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_HEADER_BYTES = len(MAGIC) + _KEY_ID_BYTES + _NONCE_BYTES


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=8 * DATA_KEY_BYTES)


def encode_data_key(key: bytes) -> str:
    """The data key as it is stored in files and Secrets: base64 text."""
    return base64.b64encode(key).decode()


def parse_data_key(text: str, where: str) -> bytes:
    """A data key from its base64 text; ArtifactError naming `where` if it is not 32 bytes."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ArtifactError(f"{where}: the data key is not base64 text") from None
    if len(key) != DATA_KEY_BYTES:
        raise ArtifactError(f"{where}: the data key has {len(key)} bytes, expected 32")
    return key


def data_key_id(key: bytes) -> str:
    """A short name of a data key (16 hex digits of its sha256), safe to log and record."""
    return hashlib.sha256(key).hexdigest()[: 2 * _KEY_ID_BYTES]


def is_encrypted(blob: bytes) -> bool:
    """Whether a file's contents are in this module's encrypted form."""
    return blob.startswith(MAGIC)


def _synthetic_nonce(key: bytes, context: bytes, plaintext: bytes) -> bytes:
    """A nonce derived from the file (as in SIV modes): the same file of the same version
    encrypts to the same bytes, so a rebuild with unchanged inputs gives the same image
    digest; two different files get different nonces (a collision needs a 96-bit match)."""
    nonce_key = hmac.new(key, b"image-classifier model nonce", hashlib.sha256).digest()
    return hmac.new(nonce_key, context + b"\0" + plaintext, hashlib.sha256).digest()[:_NONCE_BYTES]


def encrypt(plaintext: bytes, key: bytes, name: str, version: int, relative: str) -> bytes:
    """Encrypt one file of model `name` version `version` at `relative` path."""
    key_part = MAGIC + bytes.fromhex(data_key_id(key))
    context = _associated_data(key_part, name, version, relative)
    header = key_part + _synthetic_nonce(key, context, plaintext)
    aad = _associated_data(header, name, version, relative)
    return header + AESGCM(key).encrypt(header[-_NONCE_BYTES:], plaintext, aad)


def decrypt(blob: bytes, key: bytes | None, name: str, version: int, relative: str) -> bytes:
    """The plaintext of one encrypted file; ArtifactError naming the cause if it cannot be."""
    if not is_encrypted(blob) or len(blob) < _HEADER_BYTES:
        raise ArtifactError(f"{relative}: not encrypted, but the model's other files are")
    header = blob[:_HEADER_BYTES]
    sealed_by = header[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES].hex()
    if key is None:
        raise ArtifactError(
            f"missing key: {relative} is encrypted (data key {sealed_by}) and no data key is "
            "configured (MODEL_KEY_FILE)"
        )
    if sealed_by != data_key_id(key):
        raise ArtifactError(
            f"wrong key: {relative} is encrypted with data key {sealed_by}, "
            f"the configured key is {data_key_id(key)}"
        )
    aad = _associated_data(header, name, version, relative)
    try:
        return AESGCM(key).decrypt(header[-_NONCE_BYTES:], blob[_HEADER_BYTES:], aad)
    except InvalidTag:
        raise ArtifactError(
            f"altered file: {relative} fails authentication (changed, or moved from another "
            "path or version)"
        ) from None


def _associated_data(header: bytes, name: str, version: int, relative: str) -> bytes:
    return header[: len(MAGIC) + _KEY_ID_BYTES] + f"{name}\0{version}\0{relative}".encode()


def encrypt_version(source: Path, target: Path, key: bytes) -> None:
    """Write `source`'s version to `target`: metadata.json and its signature as they are, every
    file metadata.json lists encrypted; nothing else (the image carries only this)."""
    metadata = read_metadata(source)
    target.mkdir(parents=True)
    for name in (METADATA_FILE, SIGNATURE_FILE):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    for relative in sorted(metadata.files):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        plaintext = (source / relative).read_bytes()
        path.write_bytes(encrypt(plaintext, key, metadata.name, metadata.version, relative))
