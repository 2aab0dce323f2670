"""kube-score finds nothing CRITICAL in what any environment or ci/ file renders."""

import subprocess
from pathlib import Path

import pytest

from tests.chart.conftest import VALUES_SOURCES
from tests.chart.helm import template
from toolchain.paths import bin_dir

pytestmark = pytest.mark.chart

# Checks left out, each with the reason it does not apply here.
IGNORED_CHECKS: dict[str, str] = {}

# Optional checks the chart is held to as well.
OPTIONAL_CHECKS = ("container-seccomp-profile",)


def kube_score(manifests: str) -> list[str]:
    """kube-score's findings, one line each, in its CI format."""
    command = [str(bin_dir() / "kube-score"), "score", "--output-format", "ci"]
    for check in IGNORED_CHECKS:
        command += ["--ignore-test", check]
    for check in OPTIONAL_CHECKS:
        command += ["--enable-optional-test", check]
    result = subprocess.run([*command, "-"], input=manifests, capture_output=True, text=True)
    assert result.stdout, f"kube-score printed nothing: {result.stderr}"
    return result.stdout.splitlines()


@pytest.mark.parametrize("source", VALUES_SOURCES)
def test_no_critical_finding(source: str, values_files: dict[str, Path]) -> None:
    findings = kube_score(template([values_files[source]]))
    assert [line for line in findings if line.startswith("[CRITICAL]")] == []
