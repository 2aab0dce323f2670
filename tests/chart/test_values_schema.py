"""values.schema.json turns a wrong value into an error that names the key, in helm 3 and 4."""

import json
from typing import Any

import pytest
import yaml

from tests.chart.helm import CHART_DIR, HELM_BINARIES, HelmError, helm

pytestmark = pytest.mark.chart

# (case id, helm --set/--set-string arguments, fragments the error message must contain)
Case = tuple[str, list[str], list[str]]

REJECTED_BY_SCHEMA: list[Case] = [
    ("typo-top-level", ["--set", "replicaCont=2"], ["additional properties 'replicaCont'"]),
    ("typo-nested", ["--set", "image.tga=x"], ["'/image'", "'tga'"]),
    ("negative-replicas", ["--set", "replicaCount=-1"], ["'/replicaCount'", "minimum"]),
    ("replicas-not-a-number", ["--set-string", "replicaCount=three"], ["'/replicaCount'"]),
    ("unknown-service-type", ["--set", "service.type=ExternalName"], ["'/service/type'"]),
    ("short-digest", ["--set", "image.digest=sha256:abc"], ["'/image/digest'"]),
    ("unknown-backend", ["--set", "model.backend=onnx"], ["'/model/backend'"]),
    ("zero-workers", ["--set", "gunicorn.workers=0"], ["'/gunicorn/workers'"]),
    ("batch-above-service-limit", ["--set", "batching.maxSize=2048"], ["'/batching/maxSize'"]),
]

# Checks across keys live in the templates (`fail`). `helm lint` renders leniently and reports
# a `fail` only as [INFO], so these are asserted on `helm template` (and install) alone.
REJECTED_BY_TEMPLATES: list[Case] = [
    (
        "auth-without-token",
        ["--set", "auth.enabled=true"],
        ["auth.enabled is true but neither auth.existingSecret nor auth.token is set"],
    ),
    (
        "grace-period-too-short",
        ["--set", "terminationGracePeriodSeconds=25"],
        ["terminationGracePeriodSeconds (25) must exceed", "gunicorn.gracefulTimeoutSeconds (25)"],
    ),
    (
        "autoscaling-min-above-max",
        ["--set", "autoscaling.enabled=true,autoscaling.minReplicas=5,autoscaling.maxReplicas=2"],
        ["autoscaling.minReplicas (5) must not exceed autoscaling.maxReplicas (2)"],
    ),
]


def _cases(cases: list[Case]) -> list[Any]:
    return [pytest.param(args, fragments, id=case) for case, args, fragments in cases]


def _assert_fails_naming(command: list[str], binary: str, fragments: list[str]) -> None:
    with pytest.raises(HelmError) as failure:
        helm(*command, binary=binary)
    for fragment in fragments:
        assert fragment in str(failure.value)


@pytest.mark.parametrize("command", ["template", "lint"])
@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize(("arguments", "fragments"), _cases(REJECTED_BY_SCHEMA))
def test_schema_rejects_wrong_value_naming_the_key(
    command: str, binary: str, arguments: list[str], fragments: list[str]
) -> None:
    target = ["template", "image-classifier"] if command == "template" else ["lint", "--strict"]
    _assert_fails_naming([*target, str(CHART_DIR), *arguments], binary, fragments)


@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize(("arguments", "fragments"), _cases(REJECTED_BY_TEMPLATES))
def test_templates_reject_inconsistent_values_naming_the_keys(
    binary: str, arguments: list[str], fragments: list[str]
) -> None:
    command = ["template", "image-classifier", str(CHART_DIR), *arguments]
    _assert_fails_naming(command, binary, fragments)


def _key_mismatches(values: dict[str, Any], schema: dict[str, Any], path: str = "") -> list[str]:
    """Keys present in values.yaml but not declared in the schema, or the other way round."""
    declared = schema.get("properties")
    if declared is None:
        return []
    mismatches = [f"{path}{key}: not in the schema" for key in values.keys() - declared.keys()]
    mismatches += [f"{path}{key}: not in values.yaml" for key in declared.keys() - values.keys()]
    for key in values.keys() & declared.keys():
        # An empty mapping (e.g. affinity: {}) is free-form below the schema's own keys.
        if isinstance(values[key], dict) and values[key]:
            mismatches += _key_mismatches(values[key], declared[key], f"{path}{key}.")
    return mismatches


def test_schema_declares_exactly_the_keys_of_values_yaml() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    assert _key_mismatches(values, schema) == []


def _objects_without_closed_keys(schema: Any, path: str = "#") -> list[str]:
    """Schema objects with declared properties but no `additionalProperties: false`."""
    found: list[str] = []
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is not False:
            found.append(path)
        for key, child in schema.items():
            found += _objects_without_closed_keys(child, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, child in enumerate(schema):
            found += _objects_without_closed_keys(child, f"{path}/{index}")
    return found


def test_every_schema_object_rejects_unknown_keys() -> None:
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    assert _objects_without_closed_keys(schema) == []
