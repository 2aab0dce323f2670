"""The service opens a signed, encrypted model only with the right keys; on any tampering it stays
not ready and logs one line naming the cause (the real local model, sealed as the image is)."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelartifact import SIGNATURE_FILE, public_key_pem
from modelartifact.encryption import encode_data_key, encrypt_version, new_data_key
from modelartifact.signing import sign_version
from service.app import runtime_of
from service.settings import Backend, Settings
from tests.service.conftest import settled_app

pytestmark = pytest.mark.service

SIGNER = Ed25519PrivateKey.generate()
DATA_KEY = new_data_key()


@pytest.fixture
def sealed_base(local_model: Path, tmp_path: Path) -> Path:
    """MODEL_BASE_PATH holding the local model signed and encrypted, as the image carries it."""
    clear = tmp_path / "clear" / local_model.name
    shutil.copytree(local_model, clear)
    (clear / SIGNATURE_FILE).unlink(missing_ok=True)
    sign_version(clear, SIGNER)
    encrypt_version(clear, tmp_path / "image" / "image-classifier" / local_model.name, DATA_KEY)
    return tmp_path / "image"


def key_files(directory: Path, signer: Ed25519PrivateKey, data_key: bytes) -> dict[str, Path]:
    public, data = directory / "model.pub", directory / "data.key"
    public.write_text(public_key_pem(signer.public_key()))
    data.write_text(encode_data_key(data_key))
    return {"model_public_key_file": public, "model_key_file": data}


def sealed_settings(base: Path, keys: dict[str, Path], **changes: object) -> Settings:
    values: dict[str, object] = {
        "model_base_path": base,
        "model_require_signature": True,
        "model_backend": Backend.LITERT,
        **keys,
        **changes,
    }
    return Settings.model_validate(values)


def version_dir(base: Path) -> Path:
    return next((base / "image-classifier").iterdir())


def flip_a_weight_byte(base: Path, keys: dict[str, Path]) -> None:
    path = version_dir(base) / "variables" / "variables.data-00000-of-00001"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))


def edit_the_metadata(base: Path, keys: dict[str, Path]) -> None:
    path = version_dir(base) / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["classes"][0] = "seven"
    path.write_text(json.dumps(metadata, indent=2) + "\n")


def sign_with_another_key(base: Path, keys: dict[str, Path]) -> None:
    sign_version(version_dir(base), Ed25519PrivateKey.generate())


def remove_the_signature(base: Path, keys: dict[str, Path]) -> None:
    (version_dir(base) / SIGNATURE_FILE).unlink()


def configure_another_data_key(base: Path, keys: dict[str, Path]) -> None:
    keys["model_key_file"].write_text(encode_data_key(new_data_key()))


def delete_the_data_key(base: Path, keys: dict[str, Path]) -> None:
    keys["model_key_file"].unlink()


def configure_no_data_key(base: Path, keys: dict[str, Path]) -> None:
    del keys["model_key_file"]


def configure_no_public_key(base: Path, keys: dict[str, Path]) -> None:
    del keys["model_public_key_file"]


Tamper = Callable[[Path, dict[str, Path]], None]


@pytest.mark.parametrize(
    ("tamper", "cause"),
    [
        (flip_a_weight_byte, "altered file: variables/variables.data-00000-of-00001"),
        (edit_the_metadata, "bad signature:"),
        (sign_with_another_key, "signed by another key:"),
        (remove_the_signature, "unsigned model:"),
        (configure_another_data_key, "wrong key:"),
        (delete_the_data_key, "missing key: MODEL_KEY_FILE="),
        (configure_no_data_key, "no data key is configured (MODEL_KEY_FILE)"),
        (configure_no_public_key, "missing public key: MODEL_REQUIRE_SIGNATURE is true"),
    ],
)
def test_tampering_leaves_the_service_not_ready_naming_the_cause(
    sealed_base: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: Tamper,
    cause: str,
) -> None:
    keys = key_files(tmp_path, SIGNER, DATA_KEY)
    tamper(sealed_base, keys)
    app = settled_app(sealed_settings(sealed_base, keys))
    assert not runtime_of(app).ready
    assert app.test_client().get("/v2/health/ready").status_code == 503
    # The service logs one JSON object per line on stdout.
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [line] = [r["message"] for r in records if r["level"] == "error"]
    assert line.startswith("model not loaded, service stays not ready: ArtifactError: ")
    assert cause in line


# tensorflow-bf16 reads tensorflow's files; its process-wide switch keeps it out of this process.
@pytest.mark.parametrize("backend", [Backend.TENSORFLOW, Backend.LITERT])
def test_the_right_keys_open_the_sealed_model_and_leave_no_plaintext(
    sealed_base: Path,
    tmp_path: Path,
    backend: Backend,
    digit_images: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    keys = key_files(tmp_path, SIGNER, DATA_KEY)
    app = settled_app(sealed_settings(sealed_base, keys, model_backend=backend))
    assert runtime_of(app).ready
    answer = app.test_client().post(
        "/predict", data=digit_images["7"], headers={"Content-Type": "image/png"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["predictions"][0]["label"] == "7"
    assert list(scratch.iterdir()) == []  # the decrypted files are gone once loaded
