"""pyproject.toml lists exactly the repository's top-level packages (tests/ aside)."""

import tomllib

import pytest

from envconfig import REPO_ROOT

pytestmark = pytest.mark.unit


def test_package_list_matches_the_packages_on_disk() -> None:
    find = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = {pattern.removesuffix("*") for pattern in find["packages"]["find"]["include"]}
    on_disk = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")} - {"tests"}
    assert listed == on_disk
