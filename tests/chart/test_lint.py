"""`helm lint --strict` passes with helm 3 and helm 4 for every environment and ci/ file."""

from pathlib import Path

import pytest

from tests.chart.conftest import VALUES_SOURCES
from tests.chart.helm import CHART_DIR, HELM_BINARIES, helm

pytestmark = pytest.mark.chart


@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize("source", VALUES_SOURCES)
def test_lint_strict(binary: str, source: str, values_files: dict[str, Path]) -> None:
    values = str(values_files[source])
    output = helm("lint", "--strict", str(CHART_DIR), "-f", values, binary=binary)
    assert "1 chart(s) linted, 0 chart(s) failed" in output
    assert "[WARNING]" not in output and "[ERROR]" not in output
