"""Every Pulumi program run reads its stack's data key: each test gets a key directory holding
the keys the test image records were built with."""

from pathlib import Path

import pytest

from envconfig import known_environments
from modelartifact.keystore import KEYS_DIR_VARIABLE
from tests.fixtures.image_record import write_keys


@pytest.fixture(autouse=True)
def keys_root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every stack's key directory, holding the keys the test records were built with."""
    root = tmp_path_factory.mktemp("keys")
    for stack in known_environments():
        write_keys(root, stack)
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(root))
    return root
