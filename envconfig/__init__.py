"""Environments: one Pulumi stack file per environment under environments/, read once here.

Each `environments/Pulumi.<env>.yaml` holds the stack's Pulumi config; the project's own
settings sit under the `image-classifier:` namespace in three sections, each validated by
its consumer: `training` (training/config.py), `chart` (chart/values.schema.json) and
`cluster` (infra/config.py).
"""

from envconfig.environments import (
    PROJECT,
    REPO_ROOT,
    Environment,
    EnvironmentConfigError,
    known_environments,
    load_environment,
)

__all__ = [
    "PROJECT",
    "REPO_ROOT",
    "Environment",
    "EnvironmentConfigError",
    "known_environments",
    "load_environment",
]
