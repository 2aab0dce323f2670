"""An environment's model keys on the build host, outside the repository.

`$IMAGE_CLASSIFIER_KEYS_DIR/<env>/` (default `~/.config/image-classifier/keys/<env>/`) holds
`signing.key` (Ed25519, PKCS#8 PEM: training signs each published version with it) and
`data.key` (the AES-256 data key, base64: the image build encrypts with it, and the release
hands the same key to the pods). The flow is one way: this directory -> training and the image
build (the image record carries the public key and both key ids) -> `pulumi up`, which reads
`data.key`, checks its id against the record and stores it as a stack secret. Local and dev
keys are made on first use, 0600; staging and prod keys are made on purpose (`make keys
ENV=staging`, which never replaces a key) or put there (or the directory pointed at a secure
mount), so no laptop mints a production key by accident.
"""

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from envconfig.environments import known_environments
from modelartifact import encryption
from modelartifact.errors import ArtifactError

KEYS_DIR_VARIABLE = "IMAGE_CLASSIFIER_KEYS_DIR"
SIGNING_KEY_FILE = "signing.key"
DATA_KEY_FILE = "data.key"
# Environments whose keys may be generated where they are first needed.
GENERATED_ON_FIRST_USE = ("local", "dev")


def keys_root() -> Path:
    """Where every environment's key directory lives."""
    configured = os.environ.get(KEYS_DIR_VARIABLE, "").strip()
    if configured:
        return Path(configured)
    return Path.home() / ".config" / "image-classifier" / "keys"


@dataclass(frozen=True)
class KeyStore:
    """The key directory of one environment."""

    environment: str
    directory: Path

    @classmethod
    def of(cls, environment: str) -> "KeyStore":
        """The environment's key directory under keys_root()."""
        return cls(environment, keys_root() / environment)

    def signing_key(self) -> Ed25519PrivateKey:
        """The environment's signing key, made on first use where that is allowed."""
        path = self._existing_or_new(SIGNING_KEY_FILE, _new_signing_key)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ArtifactError(f"{path}: not an Ed25519 private key ({type(key).__name__})")
        return key

    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key: what the service verifies against."""
        return self.signing_key().public_key()

    def data_key(self) -> bytes:
        """The environment's data key, made on first use where that is allowed."""
        path = self._existing_or_new(DATA_KEY_FILE, _new_data_key)
        return encryption.parse_data_key(path.read_text(), str(path))

    def _existing_or_new(self, name: str, make: Callable[[], bytes]) -> Path:
        path = self.directory / name
        if path.is_file():
            return path
        if self.environment not in GENERATED_ON_FIRST_USE:
            raise ArtifactError(
                f"{path} is missing: {self.environment}'s keys are made on purpose, not on first "
                f"use: `make keys ENV={self.environment}` makes them, or put them there, or point "
                f"{KEYS_DIR_VARIABLE} at the directory holding {self.environment}/"
                f"{SIGNING_KEY_FILE} and {self.environment}/{DATA_KEY_FILE}"
            )
        return self._write(name, make)

    def create(self) -> list[Path]:
        """Make the environment's signing and data keys on purpose; never replaces a key."""
        existing = [
            self.directory / name
            for name in (SIGNING_KEY_FILE, DATA_KEY_FILE)
            if (self.directory / name).exists()
        ]
        if existing:
            raise ArtifactError(
                f"{', '.join(map(str, existing))} already there: a key is never overwritten "
                "(rotating one is replacing its file on purpose, see chart/README.md)"
            )
        return [
            self._write(SIGNING_KEY_FILE, _new_signing_key),
            self._write(DATA_KEY_FILE, _new_data_key),
        ]

    def _write(self, name: str, make: Callable[[], bytes]) -> Path:
        path = self.directory / name
        self.directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        # Written whole, then linked into place: of two first uses at once, one key wins and
        # both read it; nobody reads a half-written file.
        descriptor, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(make())
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(partial)
        return path


def _new_signing_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_data_key() -> bytes:
    return (encryption.encode_data_key(encryption.new_data_key()) + "\n").encode()


def main(argv: list[str]) -> int:
    """`python -m modelartifact.keystore create ENV`: make ENV's keys (staging, prod: once)."""
    if len(argv) != 2 or argv[0] != "create":
        print("usage: python -m modelartifact.keystore create ENV", file=sys.stderr)
        return 2
    environment = argv[1]
    if environment not in (known := known_environments()):
        print(f"error: unknown environment {environment!r}; known: {known}", file=sys.stderr)
        return 2
    try:
        for path in KeyStore.of(environment).create():
            print(f"wrote {path} (0600)")
    except ArtifactError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
