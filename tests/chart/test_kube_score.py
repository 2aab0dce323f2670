"""kube-score finds nothing CRITICAL, and warns only as expected, in what any environment or
ci/ file renders."""

import re
import subprocess
from pathlib import Path

import pytest

from ops.toolchain.paths import bin_dir
from tests.chart.conftest import VALUES_SOURCES
from tests.chart.helm import template

pytestmark = pytest.mark.chart

# Checks left out, each with the reason it does not apply here.
IGNORED_CHECKS = {
    "container-image-pull-policy": (
        "images are pinned by digest, so IfNotPresent cannot run a stale image; a pod restarted "
        "while its registry is unreachable keeps running from the node's copy"
    ),
}

# Optional checks the chart is held to as well.
OPTIONAL_CHECKS = ("container-seccomp-profile", "container-ports-check")

# Warnings accepted, by message, each with its reason.
ACCEPTED_WARNINGS = {
    "Deployment does not have a host podAntiAffinity set": (
        "replicas are spread over hosts by topologySpreadConstraints on kubernetes.io/hostname; "
        "kube-score looks only at podAntiAffinity"
    ),
    "Deployment few replicas": "the local environment runs two replicas on purpose",
    "The service is of type NodePort": (
        "the local environment's Service: kube-proxy serves its NodePort on loopback only, "
        "which is how http://127.0.0.1:8080 reaches the pods"
    ),
}

_FINDING = re.compile(r"^\[(?P<grade>[A-Z]+)\] (?P<object>[^:]+): (?P<message>.*)$")


def kube_score(manifests: str) -> list[tuple[str, str, str]]:
    """kube-score's findings other than OK/SKIPPED: (grade, object, message)."""
    command = [str(bin_dir() / "kube-score"), "score", "--output-format", "ci"]
    for check in IGNORED_CHECKS:
        command += ["--ignore-test", check]
    for check in OPTIONAL_CHECKS:
        command += ["--enable-optional-test", check]
    result = subprocess.run([*command, "-"], input=manifests, capture_output=True, text=True)
    assert "[OK]" in result.stdout, f"kube-score scored nothing: {result.stderr}"
    findings = [_FINDING.match(line) for line in result.stdout.splitlines()]
    return [
        (found["grade"], found["object"], found["message"])
        for found in findings
        if found and found["grade"] not in ("OK", "SKIPPED")
    ]


@pytest.mark.parametrize("source", VALUES_SOURCES)
def test_no_critical_finding_and_only_accepted_warnings(
    source: str, values_files: dict[str, Path]
) -> None:
    findings = kube_score(template([values_files[source]]))
    assert [finding for finding in findings if finding[0] == "CRITICAL"] == []
    assert {message for grade, _, message in findings if grade == "WARNING"} <= set(
        ACCEPTED_WARNINGS
    )


def test_kube_score_does_flag_a_bare_deployment() -> None:
    # The same invocation must report CRITICAL on a pod without limits, probes or policies.
    bare = """apiVersion: apps/v1
kind: Deployment
metadata: {name: bare}
spec:
  replicas: 2
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec: {containers: [{name: bare, image: "bare:1"}]}
"""
    assert "CRITICAL" in {grade for grade, _, _ in kube_score(bare)}
