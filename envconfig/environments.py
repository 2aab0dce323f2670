"""Find and parse an environment's stack file into its sections."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT = "image-classifier"
REPO_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = REPO_ROOT / "environments"
SECTIONS = ("training", "chart", "cluster")


class EnvironmentConfigError(ValueError):
    """An unknown environment or a malformed stack file; the message names file and key."""


@dataclass(frozen=True)
class Environment:
    """The raw, per-consumer sections of one environment's stack file."""

    name: str
    path: Path
    training: dict[str, Any]
    chart: dict[str, Any]
    cluster: dict[str, Any]


def known_environments(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    """Names of the environments that have a stack file, sorted."""
    return sorted(
        path.name[len("Pulumi.") : -len(".yaml")] for path in directory.glob("Pulumi.*.yaml")
    )


def load_environment(name: str, directory: Path = ENVIRONMENTS_DIR) -> Environment:
    """Read `Pulumi.<name>.yaml`; unknown names list the known ones."""
    path = directory / f"Pulumi.{name}.yaml"
    if not path.is_file():
        known = ", ".join(known_environments(directory)) or "none"
        raise EnvironmentConfigError(
            f"unknown environment {name!r}: no {path.name} in {directory} (known: {known})"
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise EnvironmentConfigError(f"{path}: not valid YAML: {error}") from error
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise EnvironmentConfigError(f"{path}: 'config' must be a mapping")
    sections: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        key = f"{PROJECT}:{section}"
        value = config.get(key, {})
        if not isinstance(value, dict):
            raise EnvironmentConfigError(
                f"{path}: '{key}' must be a mapping, got {type(value).__name__}"
            )
        sections[section] = value
    return Environment(name=name, path=path, **sections)
