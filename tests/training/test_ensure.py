"""A command that trains on demand (`make bench|serve`) stops with training's own message."""

from pathlib import Path

import pytest

from modelartifact.keystore import KEYS_DIR_VARIABLE
from training.ensure import trained_or_exit

pytestmark = pytest.mark.training


def test_a_failed_training_exits_with_its_status_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # No keys for staging: training refuses at once, before any work.
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(tmp_path / "keys"))
    with pytest.raises(SystemExit) as stopped:
        trained_or_exit("staging", tmp_path / "models")
    assert stopped.value.code == 2
    errors = capfd.readouterr().err
    assert "error: " in errors and "signing.key is missing" in errors
    assert "Traceback" not in errors
    assert not list((tmp_path / "models").glob("staging/**/metadata.json"))
