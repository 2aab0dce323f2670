"""Build Go programs from the Go module proxy, directly or through a throwaway wrapper module.

A module whose go.mod has `replace` lines cannot be `go install`ed; a wrapper module that
requires it (and re-states the replaces that matter) builds the same packages.

Every build runs with `-mod=readonly` and checksum verification on: a module the project
generates or edits builds from the go.mod and go.sum committed under gomod/ (written by
`make lock-go`), never from a go.sum resolved at build time.
"""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOCKS_DIR = Path(__file__).parent / "gomod"
LOCKED_FILES = ("go.mod", "go.sum")
# Settings of the caller's environment that could let a build skip checksum verification or
# resolve modules anew; the build sets GOFLAGS itself.
UNPINNING_SETTINGS = (
    "GOFLAGS", "GONOSUMDB", "GONOSUMCHECK", "GOINSECURE", "GOPRIVATE", "GONOPROXY",
)  # fmt: skip


class BuildError(RuntimeError):
    """A go command failed; the message holds the command and the end of its output."""


def go_env(workdir: Path, *, locking: bool = False) -> dict[str, str]:
    """The go command's environment: `-mod=readonly`, or `-mod=mod` while writing a lock."""
    env = {name: value for name, value in os.environ.items() if name not in UNPINNING_SETTINGS}
    if env.get("GOSUMDB") == "off":
        del env["GOSUMDB"]
    env["GOFLAGS"] = "-mod=mod" if locking else "-mod=readonly"
    env.setdefault("CGO_ENABLED", "0")
    env.pop("GOBIN", None)
    env["PWD"] = str(workdir)
    return env


def run_go(
    args: Sequence[str],
    cwd: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    locking: bool = False,
) -> str:
    """Run one go command; raise BuildError with the tail of its output on failure."""
    env = go_env(cwd, locking=locking) | dict(extra_env or {})
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
    """Packages to build from modules pinned in a wrapper go.mod, locked under gomod/`lock`."""

    lock: str
    requires: Mapping[str, str]
    packages: Mapping[str, str]  # output binary name -> import path
    replaces: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[str] = ()


def _write_tools_go(spec: WrapperBuild, work: Path) -> None:
    imports = "\n".join(f'\t_ "{path}"' for path in spec.packages.values())
    (work / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")


def lock_wrapped(spec: WrapperBuild) -> Path:
    """Resolve the wrapper module (`go mod tidy`) and save its go.mod and go.sum under gomod/."""
    with tempfile.TemporaryDirectory(prefix="gowrap-") as tmp:
        work = Path(tmp)
        lines = ["module local/toolbuild", "", "go 1.26", ""]
        lines += [f"require {module} {version}" for module, version in spec.requires.items()]
        lines += [f"replace {old} => {new}" for old, new in spec.replaces.items()]
        (work / "go.mod").write_text("\n".join(lines) + "\n")
        _write_tools_go(spec, work)
        run_go(["mod", "tidy"], work, locking=True)
        return save_lock(work, spec.lock)


def save_lock(module: Path, lock: str) -> Path:
    """Copy `module`'s go.mod and go.sum to gomod/`lock`/."""
    target = LOCKS_DIR / lock
    target.mkdir(parents=True, exist_ok=True)
    for name in LOCKED_FILES:
        shutil.copyfile(module / name, target / name)
    return target


def apply_lock(lock: str, module: Path) -> None:
    """Put the committed go.mod and go.sum of gomod/`lock` into `module`."""
    for name in LOCKED_FILES:
        locked = LOCKS_DIR / lock / name
        if not locked.is_file():
            raise BuildError(f"{locked} is missing: run `make lock-go` and commit gomod/")
        shutil.copyfile(locked, module / name)


def _check_pins(spec: WrapperBuild, work: Path) -> None:
    """Raise BuildError unless the locked go.mod requires and replaces what `spec` pins."""
    module = json.loads(run_go(["mod", "edit", "-json"], work))
    required = {entry["Path"]: entry["Version"] for entry in module.get("Require") or []}
    replaced = {
        entry["Old"]["Path"]: f"{entry['New']['Path']} {entry['New'].get('Version', '')}".strip()
        for entry in module.get("Replace") or []
    }
    stale = [m for m, v in spec.requires.items() if required.get(m) != v] + [
        m for m, new in spec.replaces.items() if replaced.get(m) != new
    ]
    if stale:
        raise BuildError(
            f"gomod/{spec.lock}/go.mod does not pin {', '.join(sorted(stale))} as"
            " ops/toolchain/versions.py does: run `make lock-go` and commit gomod/"
        )


def wrapper_module(spec: WrapperBuild, work: Path) -> None:
    """The locked wrapper module of `spec` in `work`, checked against its pins."""
    apply_lock(spec.lock, work)
    _check_pins(spec, work)
    _write_tools_go(spec, work)


def build_wrapped(spec: WrapperBuild, out_dir: Path) -> None:
    """Build `spec.packages` into `out_dir` from the locked wrapper module."""
    with tempfile.TemporaryDirectory(prefix="gowrap-") as tmp:
        work = Path(tmp)
        wrapper_module(spec, work)
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
