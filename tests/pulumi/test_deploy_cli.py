"""`python -m deploy` (what `make up` / `make down` run) refuses unknown environments clearly."""

import subprocess
import sys

import pytest

from envconfig import REPO_ROOT, known_environments

pytestmark = pytest.mark.pulumi


@pytest.mark.parametrize("action", ["up", "down"])
def test_unknown_environment_lists_the_known_ones(action: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy", action, "--env", "nosuch"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown environment 'nosuch'" in result.stderr
    assert f"known: {', '.join(known_environments())}" in result.stderr
