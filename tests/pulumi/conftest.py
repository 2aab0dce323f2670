"""Every Pulumi program run reads its stack's data key: each test gets a key directory holding
the keys the test image records were built with."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from envconfig import known_environments
from modelartifact.keystore import KEYS_DIR_VARIABLE
from tests.fixtures.image_record import write_keys


@pytest.fixture(scope="module", autouse=True)
def keys_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every stack's key directory, holding the keys the test records were built with (module
    scope: some modules run the program once in a module-scoped fixture)."""
    root = tmp_path_factory.mktemp("keys")
    for stack in known_environments():
        write_keys(root, stack)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEYS_DIR_VARIABLE, str(root))
        yield root
