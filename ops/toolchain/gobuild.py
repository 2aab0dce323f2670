"""Build Go programs from the Go module proxy, directly or through a throwaway wrapper module.

A module whose go.mod has `replace` lines cannot be `go install`ed; a wrapper module that
requires it (and re-states the replaces that matter) builds the same packages.
"""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BuildError(RuntimeError):
    """A go command failed; the message holds the command and the end of its output."""


def _go_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    env.setdefault("CGO_ENABLED", "0")
    env.pop("GOBIN", None)
    env["PWD"] = str(workdir)
    return env


def run_go(args: Sequence[str], cwd: Path, extra_env: Mapping[str, str] | None = None) -> str:
    """Run one go command; raise BuildError with the tail of its output on failure."""
    env = _go_env(cwd) | dict(extra_env or {})
    result = subprocess.run(
        ["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise BuildError(f"go {' '.join(args)} (in {cwd}) failed:\n{tail}")
    return result.stdout


def ldflags(variables: Mapping[str, str]) -> str:
    """`-s -w` plus one `-X` per variable."""
    return " ".join(["-s", "-w", *(f"-X {name}={value}" for name, value in variables.items())])


@dataclass(frozen=True)
class WrapperBuild:
    """Packages to build from modules pinned in a generated go.mod."""

    requires: Mapping[str, str]
    packages: Mapping[str, str]  # output binary name -> import path
    replaces: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[str] = ()


def build_wrapped(spec: WrapperBuild, out_dir: Path) -> None:
    """Build `spec.packages` into `out_dir` from a temporary wrapper module."""
    with tempfile.TemporaryDirectory(prefix="gowrap-") as tmp:
        work = Path(tmp)
        lines = ["module local/toolbuild", "", "go 1.26", ""]
        lines += [f"require {module} {version}" for module, version in spec.requires.items()]
        lines += [f"replace {old} => {new}" for old, new in spec.replaces.items()]
        (work / "go.mod").write_text("\n".join(lines) + "\n")
        imports = "\n".join(f'\t_ "{path}"' for path in spec.packages.values())
        (work / "tools.go").write_text(
            f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
        )
        run_go(["mod", "tidy", "-e"], work)
        for binary, path in spec.packages.items():
            build_package(path, out_dir / binary, work, spec.variables, spec.tags)


def build_package(
    path: str,
    output: Path,
    cwd: Path,
    variables: Mapping[str, str] | None = None,
    tags: Sequence[str] = (),
) -> None:
    """`go build` one main package to `output`."""
    args = ["build", "-trimpath", "-ldflags", ldflags(variables or {}), "-o", str(output)]
    if tags:
        args += ["-tags", ",".join(tags)]
    run_go([*args, path], cwd)


def go_install(
    path: str,
    version: str,
    output: Path,
    variables: Mapping[str, str],
    tags: Sequence[str] = (),
) -> None:
    """`go install path@version`, then move the binary to `output`."""
    args = ["install", "-trimpath", "-ldflags", ldflags(variables)]
    if tags:
        args += ["-tags", ",".join(tags)]
    with tempfile.TemporaryDirectory(prefix="goinstall-") as gobin:
        run_go([*args, f"{path}@{version}"], Path(gobin), {"GOBIN": gobin})
        built = Path(gobin) / path.rsplit("/", 1)[-1]
        shutil.move(str(built), output)


def module_dir(module: str, version: str) -> Path:
    """Download a module to the module cache and return its (read-only) directory."""
    out = run_go(["mod", "download", "-json", f"{module}@{version}"], Path(tempfile.gettempdir()))
    return Path(json.loads(out)["Dir"])
