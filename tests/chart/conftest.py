"""Fixtures of the chart tests: each environment's release values, rendered once per session."""

from pathlib import Path

import pytest

from envconfig import known_environments
from tests.chart.helm import (
    CHART_DIR,
    Docs,
    environment_values,
    manifests,
    template,
    write_values,
)

CI_VALUES_FILES = {f"ci/{path.name}": path for path in sorted((CHART_DIR / "ci").glob("*.yaml"))}
# Everything CI renders: each environment as released, and each chart/ci/ feature file.
VALUES_SOURCES = [*known_environments(), *CI_VALUES_FILES]


@pytest.fixture(scope="session")
def environment_values_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each environment's values as the Pulumi program releases them, as files."""
    directory = tmp_path_factory.mktemp("environment-values")
    return {
        name: write_values(environment_values(name), directory, name)
        for name in known_environments()
    }


@pytest.fixture(scope="session")
def values_files(environment_values_files: dict[str, Path]) -> dict[str, Path]:
    """The values file of every name in VALUES_SOURCES."""
    return {**environment_values_files, **CI_VALUES_FILES}


@pytest.fixture(scope="session")
def rendered_environments(environment_values_files: dict[str, Path]) -> dict[str, Docs]:
    """Each environment's manifests as `helm template` renders them."""
    return {name: manifests(template([path])) for name, path in environment_values_files.items()}


@pytest.fixture(scope="session")
def default_manifests() -> Docs:
    """The manifests of the chart's defaults."""
    return manifests(template())
