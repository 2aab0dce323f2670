"""The release rules as plain functions over a Helm release's values.

The program releases complete values (infra/values.py: the chart's defaults included), so the
rules read them as they are. Each rule returns the problems it found (empty when the values
comply); `__main__.py` wraps them as pulumi-policy validations of `kubernetes:helm.sh/v3:Release`
resources.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

Rule = Callable[[Mapping[str, Any]], list[str]]


def image_pinned_by_digest(values: Mapping[str, Any]) -> list[str]:
    """The image must be pinned by an immutable digest, never by a movable tag alone."""
    digest = str((values.get("image") or {}).get("digest") or "")
    if DIGEST.match(digest):
        return []
    return [f"image.digest is {digest or 'empty'}; pin the image by its sha256 digest"]


def resource_limits_set(values: Mapping[str, Any]) -> list[str]:
    """Every pod needs CPU and memory requests and limits, so one cannot starve a node."""
    resources = values.get("resources") or {}
    missing = [
        f"resources.{kind}.{name}"
        for kind in ("requests", "limits")
        for name in ("cpu", "memory")
        if not (resources.get(kind) or {}).get(name)
    ]
    return [f"{key} is not set" for key in missing]


RULES: dict[str, Rule] = {
    "image-pinned-by-digest": image_pinned_by_digest,
    "resource-limits-set": resource_limits_set,
}
