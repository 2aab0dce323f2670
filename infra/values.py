"""The Helm values a stack releases, computed in one place for infra, policy and the chart tests.

chart/values.yaml's defaults <- the stack's `image-classifier:chart` section <- what only the
release knows: the built image pinned by digest, its model version and public key (from the
image record), the model's data key and the auth token. The
result is complete (every key the chart reads), so a reader such as the policy pack checks
exactly what Helm renders, without merging the chart's defaults again.
"""

from collections.abc import Mapping
from typing import Any

import pulumi
import yaml

from envconfig import REPO_ROOT
from imagebuild.record import ImageInfo

CHART_DIR = REPO_ROOT / "chart"
VALUES_FILE = CHART_DIR / "values.yaml"


def chart_defaults() -> dict[str, Any]:
    """chart/values.yaml: every value the chart reads, with its documented default."""
    return dict(yaml.safe_load(VALUES_FILE.read_text()))


def release_values(
    chart_values: Mapping[str, Any],
    image: ImageInfo,
    auth_token: pulumi.Input[str] | None,
    model_data_key: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """The values Helm renders the stack's release with; `auth_token` becomes auth.token and
    `model_data_key` (base64) modelKeys.dataKey."""
    release: dict[str, Any] = {
        "image": {"repository": image.repository, "tag": image.tag, "digest": image.digest},
        "model": {"version": image.model_version},
        "modelKeys": model_keys_values(image, model_data_key),
    }
    if auth_token is not None:
        release["auth"] = {"token": auth_token}
    return _merge(_merge(chart_defaults(), chart_values), release)


def model_keys_values(image: ImageInfo, data_key: pulumi.Input[str] | None) -> dict[str, Any]:
    """The chart's `modelKeys` for `image`: its record's public key and the data key."""
    values: dict[str, Any] = {"publicKey": image.model_keys.public_key}
    if data_key is not None:
        values["dataKey"] = data_key
    return values


def canary_values(image: ImageInfo, replicas: int) -> dict[str, Any]:
    """The chart's `canary` section for `replicas` pods of `image` beside the stable ones."""
    return {
        "canary": {
            "enabled": True,
            "replicaCount": replicas,
            "image": {"repository": image.repository, "tag": image.tag, "digest": image.digest},
            "model": {"version": image.model_version},
        }
    }


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's rule for values files: mappings merge key by key; lists and scalars replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
