"""The policy pack's rules: every committed stack complies, and each violation is caught."""

from typing import Any

import pytest

from envconfig import REPO_ROOT, known_environments, load_environment
from infra.image_record import load_image_record
from infra.release import release_values
from policy.rules import RULES, effective_values
from tests.pulumi.harness import write_image_record

pytestmark = pytest.mark.pulumi

CHART = str(REPO_ROOT / "chart")


def problems(values: dict[str, Any]) -> dict[str, list[str]]:
    effective = effective_values(CHART, values)
    return {name: found for name, rule in RULES.items() if (found := rule(effective))}


@pytest.mark.parametrize("stack", known_environments())
def test_committed_stacks_comply(stack: str, tmp_path: Any) -> None:
    image = load_image_record(write_image_record(tmp_path))
    assert problems(release_values(load_environment(stack).chart, image, None)) == {}


@pytest.mark.parametrize(
    ("values", "rule", "message"),
    [
        ({"image": {"digest": ""}}, "image-pinned-by-digest", "image.digest is empty"),
        ({"image": {"digest": "sha256:abc"}}, "image-pinned-by-digest", "pin the image"),
        ({"resources": {"limits": {"cpu": None}}}, "resource-limits-set", "limits.cpu is not set"),
        ({"service": {"type": "LoadBalancer"}}, "no-open-load-balancer", "is empty"),
        (
            {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}},
            "no-open-load-balancer",
            "opens the service to 0.0.0.0/0",
        ),
    ],
    ids=["no-digest", "short-digest", "no-limits", "lb-no-ranges", "lb-open"],
)
def test_violations_are_reported(values: dict[str, Any], rule: str, message: str) -> None:
    pinned = {"image": {"digest": "sha256:" + "0" * 64}}
    found = problems({**pinned, **values})
    assert rule in found and any(message in problem for problem in found[rule])
