"""Signing and encryption of a model version: each tampering is refused, naming its cause."""

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelartifact import ArtifactError, ArtifactKeys, load_artifact
from modelartifact.encryption import MAGIC, encrypt, encrypt_version, new_data_key
from modelartifact.keystore import KEYS_DIR_VARIABLE, KeyStore
from modelartifact.signing import SIGNATURE_FILE, sign_version
from tests.modelartifact.synthetic import publish

pytestmark = pytest.mark.unit

SIGNER = Ed25519PrivateKey.generate()
DATA_KEY = new_data_key()
TRUSTING = ArtifactKeys(public_key=SIGNER.public_key(), data_key=DATA_KEY)


def signed(tmp_path: Path, version: str = "1") -> Path:
    directory = publish(tmp_path / "clear" / "image-classifier", version, version=int(version))
    sign_version(directory, SIGNER)
    return directory


def sealed(tmp_path: Path, version: str = "1") -> Path:
    """A signed version as the image carries it: every listed file encrypted."""
    target = tmp_path / "image" / "image-classifier" / version
    encrypt_version(signed(tmp_path, version), target, DATA_KEY)
    return target


def test_a_sealed_version_decrypts_to_the_wanted_files_only(tmp_path: Path) -> None:
    into = tmp_path / "plain"
    artifact = load_artifact(
        sealed(tmp_path),
        TRUSTING,
        decrypt_into=into,
        wanted=lambda metadata, relative: relative == metadata.litert.int8.file,
    )
    assert artifact.path == into
    assert [p.name for p in into.iterdir()] == ["model_int8.tflite"]
    assert (into / "model_int8.tflite").read_bytes() == b"model_int8.tflite"


def test_the_image_carries_no_plaintext(tmp_path: Path) -> None:
    directory = sealed(tmp_path)
    for name in ("saved_model.pb", "model_int8.tflite"):
        assert name.encode() not in (directory / name).read_bytes()


def test_a_signed_clear_version_loads_in_place(tmp_path: Path) -> None:
    directory = signed(tmp_path)
    assert load_artifact(directory, TRUSTING).path == directory


def tamper_with_a_byte(directory: Path) -> None:
    path = directory / "saved_model.pb"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0x01
    path.write_bytes(bytes(blob))


def edit_the_metadata(directory: Path) -> None:
    path = directory / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["classes"] = ["dog", "cat"]
    path.write_text(json.dumps(metadata, indent=2) + "\n")


def sign_with_another_key(directory: Path) -> None:
    sign_version(directory, Ed25519PrivateKey.generate())


def forge_the_key_id(directory: Path) -> None:
    path = directory / SIGNATURE_FILE
    good = json.loads(path.read_text())["key_id"]
    sign_with_another_key(directory)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "key_id": good}))


def unsign(directory: Path) -> None:
    (directory / SIGNATURE_FILE).unlink()


def swap_two_files(directory: Path) -> None:
    first, second = directory / "model_int8.tflite", directory / "model_float16.tflite"
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)


@pytest.mark.parametrize(
    ("tamper", "cause"),
    [
        (tamper_with_a_byte, r"altered file: saved_model\.pb fails authentication"),
        (edit_the_metadata, r"bad signature: .*metadata\.json does not match"),
        (sign_with_another_key, r"signed by another key: .* names key [0-9a-f]{16}"),
        (forge_the_key_id, r"bad signature"),
        (unsign, r"unsigned model: .*metadata\.json\.sig is missing"),
        (swap_two_files, r"altered file: model_float16\.tflite .*moved from another path"),
    ],
)
def test_tampering_with_a_sealed_version_is_refused(
    tmp_path: Path, tamper: object, cause: str
) -> None:
    directory = sealed(tmp_path)
    tamper(directory)  # type: ignore[operator]
    with pytest.raises(ArtifactError, match=cause):
        load_artifact(directory, TRUSTING, decrypt_into=tmp_path / "plain")


def test_a_flipped_byte_in_a_signed_clear_version_fails_its_checksum(tmp_path: Path) -> None:
    directory = signed(tmp_path)
    tamper_with_a_byte(directory)
    with pytest.raises(ArtifactError, match=r"saved_model\.pb: sha256 .* does not match"):
        load_artifact(directory, TRUSTING)


@pytest.mark.parametrize(
    ("data_key", "cause"),
    [
        (None, r"missing key: .* no data key is configured \(MODEL_KEY_FILE\)"),
        (new_data_key(), r"wrong key: .* encrypted with data key [0-9a-f]{16}, the configured"),
    ],
)
def test_an_encrypted_version_needs_its_own_data_key(
    tmp_path: Path, data_key: bytes | None, cause: str
) -> None:
    keys = ArtifactKeys(public_key=SIGNER.public_key(), data_key=data_key)
    with pytest.raises(ArtifactError, match=cause):
        load_artifact(sealed(tmp_path), keys, decrypt_into=tmp_path / "plain")


def test_a_version_copied_to_another_number_does_not_decrypt_as_it(tmp_path: Path) -> None:
    """A file sealed for version 2 does not decrypt as version 1's, even under the same path."""
    directory = sealed(tmp_path)
    other = sealed(tmp_path / "other", "2")
    (directory / "saved_model.pb").write_bytes((other / "saved_model.pb").read_bytes())
    with pytest.raises(ArtifactError, match=r"altered file: saved_model\.pb"):
        load_artifact(directory, TRUSTING, decrypt_into=tmp_path / "plain")


def test_local_keys_are_made_once_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(tmp_path))
    store = KeyStore.of("local")
    assert store.data_key() == KeyStore.of("local").data_key()
    assert store.signing_key().public_key() == store.public_key()
    for path in store.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_production_keys_are_never_made_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(
        ArtifactError, match=rf"prod/signing\.key is missing: .*{KEYS_DIR_VARIABLE}"
    ):
        KeyStore.of("prod").signing_key()
    assert not (tmp_path / "prod").exists()


def test_encryption_is_deterministic_per_file_so_rebuilds_keep_their_digest() -> None:
    key = new_data_key()
    first = encrypt(b"weights", key, "m", 1, "saved_model.pb")
    assert encrypt(b"weights", key, "m", 1, "saved_model.pb") == first
    # Another content, path or version gets another nonce, not just another ciphertext.
    nonces = {
        encrypt(plain, key, "m", version, path)[len(MAGIC) + 8 : len(MAGIC) + 20]
        for plain, version, path in (
            (b"weights", 1, "saved_model.pb"),
            (b"weightz", 1, "saved_model.pb"),
            (b"weights", 2, "saved_model.pb"),
            (b"weights", 1, "model_int8.tflite"),
        )
    }
    assert len(nonces) == 4
