"""Where built tools live: a cache outside the repository, keyed by tool and version."""

import os
from pathlib import Path

from ops.toolchain import versions


def cache_root() -> Path:
    """Root of every cache this project writes (`$XDG_CACHE_HOME/image-classifier`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "image-classifier"


def tool_dir(name: str, version: str) -> Path:
    """Directory holding the binaries of one tool at one version."""
    return cache_root() / "tools" / f"{name}-{version}"


def bin_dir() -> Path:
    """The single directory the Makefile puts first on PATH (links into `tool_dir`s)."""
    return cache_root() / f"bin-k8s{versions.KUBERNETES}-pulumi{versions.PULUMI}"


def pulumi_home() -> Path:
    """PULUMI_HOME: plugins and credentials of the local engine, shared by every clone."""
    return cache_root() / f"pulumi-home-{versions.PULUMI}"
