"""The policy pack's rules: every committed stack complies, and each violation is caught.

The rules see what the program releases: infra/values.py's values, the chart's defaults included.
"""

from typing import Any

import pytest

from envconfig import known_environments, load_environment
from infra.values import release_values
from policy.rules import RULES
from tests.fixtures.image_record import sample_image

pytestmark = pytest.mark.pulumi


def problems(chart: dict[str, Any], **replaced: Any) -> dict[str, list[str]]:
    """What the rules find in the release of `chart`, with top-level `replaced` values."""
    values = {**release_values(chart, sample_image(), None), **replaced}
    return {name: found for name, rule in RULES.items() if (found := rule(values))}


@pytest.mark.parametrize("stack", known_environments())
def test_committed_stacks_comply(stack: str) -> None:
    assert problems(load_environment(stack).chart) == {}


@pytest.mark.parametrize(
    ("chart", "replaced", "rule", "message"),
    [
        ({}, {"image": {"digest": ""}}, "image-pinned-by-digest", "image.digest is empty"),
        ({}, {"image": {"digest": "sha256:abc"}}, "image-pinned-by-digest", "pin the image"),
        (
            {"resources": {"limits": {"cpu": None}}},
            {},
            "resource-limits-set",
            "limits.cpu is not set",
        ),
    ],
    ids=["no-digest", "short-digest", "no-limits"],
)
def test_violations_are_reported(
    chart: dict[str, Any], replaced: dict[str, Any], rule: str, message: str
) -> None:
    found = problems(chart, **replaced)
    assert rule in found and any(message in problem for problem in found[rule])
