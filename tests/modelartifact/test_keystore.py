"""Staging and prod keys are made on purpose, once: `make keys ENV=...` writes both 0600 and
never replaces one; training refuses to mint them on first use."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from envconfig import REPO_ROOT
from modelartifact.encryption import parse_data_key
from modelartifact.errors import ArtifactError
from modelartifact.keystore import KEYS_DIR_VARIABLE, KeyStore

pytestmark = pytest.mark.unit


def create(keys: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelartifact.keystore", "create", *args],
        cwd=REPO_ROOT, env={KEYS_DIR_VARIABLE: str(keys), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_create_writes_both_keys_private_then_refuses_to_replace_them(tmp_path: Path) -> None:
    made = create(tmp_path, "staging")
    assert made.returncode == 0, made.stderr
    store = KeyStore("staging", tmp_path / "staging")
    for name in ("signing.key", "data.key"):
        assert stat.S_IMODE((store.directory / name).stat().st_mode) == 0o600
        assert f"wrote {store.directory / name} (0600)" in made.stdout
    public = store.public_key()
    data_key = parse_data_key((store.directory / "data.key").read_text(), "data.key")
    assert len(data_key) == 32

    again = create(tmp_path, "staging")
    assert again.returncode == 1
    assert "already there: a key is never overwritten" in again.stderr
    assert store.public_key() == public  # the first keys are untouched


def test_an_unknown_environment_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    refused = create(tmp_path, "../elsewhere")
    assert refused.returncode == 2
    assert "unknown environment '../elsewhere'; known:" in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_staging_key_is_not_minted_on_first_use(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="make keys ENV=staging"):
        KeyStore("staging", tmp_path / "staging").signing_key()
    assert not (tmp_path / "staging").exists()
