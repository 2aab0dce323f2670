"""The pulumi CLI with the project's engine settings: local file backend, no downloads."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envconfig import REPO_ROOT
from ops.toolchain.install import LOCAL_STACK_PASSPHRASE, pulumi_environment
from ops.toolchain.paths import bin_dir


class PulumiError(RuntimeError):
    """A pulumi command failed; the message holds the command and what pulumi said."""


@dataclass(frozen=True)
class PulumiCli:
    """Runs `pulumi` in `project_dir`; `overrides` replace engine settings (tests: backend)."""

    project_dir: Path = REPO_ROOT
    overrides: dict[str, str] = field(default_factory=dict)

    def environment(self, stack: str | None = None) -> dict[str, str]:
        """Engine settings for a command on `stack`, with the venv's Python for the program.

        The local stack's secrets use the repository's passphrase; every other stack uses the
        caller's PULUMI_CONFIG_PASSPHRASE (or the KMS key its stack file names)."""
        path = os.environ.get("PATH", "")
        if str(bin_dir()) not in path.split(os.pathsep):
            path = f"{bin_dir()}{os.pathsep}{path}"
        return {
            **os.environ,
            **pulumi_environment(),
            "PATH": path,
            # The language host (v3.79) ignores Pulumi.yaml's virtualenv option when the 3.260
            # engine sends it, so the program's interpreter is named explicitly.
            "PULUMI_PYTHON_CMD": os.environ.get("PULUMI_PYTHON_CMD", sys.executable),
            # The local cluster's dynamic provider runs in its own process and imports
            # localcluster from the repository.
            "PYTHONPATH": str(REPO_ROOT),
            **self.overrides,
            **({"PULUMI_CONFIG_PASSPHRASE": LOCAL_STACK_PASSPHRASE} if stack == "local" else {}),
        }

    def run(self, *args: str, capture: bool = True) -> str:
        """Run `pulumi ARGS --non-interactive`; return stdout (or stream it when not capturing)."""
        command = ["pulumi", *args, "--non-interactive"]
        environment = self.environment(_stack_named(args))
        backend = environment["PULUMI_BACKEND_URL"]
        if backend.startswith("file://"):
            # The file backend refuses a state directory that does not exist yet.
            Path(backend.removeprefix("file://")).expanduser().mkdir(parents=True, exist_ok=True)
        output = subprocess.PIPE if capture else None
        result = subprocess.run(
            command,
            cwd=self.project_dir,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT if capture else None,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            said = (result.stdout or "").strip()[-4000:] or "(see the output above)"
            raise PulumiError(f"`{' '.join(command)}` failed (exit {result.returncode}):\n{said}")
        return result.stdout or ""

    def select_stack(self, stack: str) -> None:
        """Select `stack`, creating it if it is new with the secrets provider its stack file
        names (a cloud KMS key), else the passphrase one."""
        provider = secrets_provider(self.project_dir / "environments" / f"Pulumi.{stack}.yaml")
        self.run(
            "stack", "select", "--create", "--secrets-provider", provider or "passphrase",
            "--stack", stack,
        )  # fmt: skip

    def has_stack(self, stack: str) -> bool:
        """Whether the backend holds `stack`."""
        listed = json.loads(self.run("stack", "ls", "--json"))
        return any(entry["name"] == stack for entry in listed)

    def protected_resources(self, stack: str) -> list[str]:
        """URNs of the stack's resources that `pulumi destroy` must leave (protect: true)."""
        state = json.loads(self.run("stack", "export", "--stack", stack))
        resources = state.get("deployment", {}).get("resources") or []
        return [resource["urn"] for resource in resources if resource.get("protect")]

    def outputs(self, stack: str) -> dict[str, Any]:
        """The stack's outputs, secrets revealed (they stay encrypted in the state file)."""
        result: dict[str, Any] = json.loads(
            self.run("stack", "output", "--json", "--show-secrets", "--stack", stack)
        )
        return result


def secrets_provider(stack_file: Path) -> str | None:
    """The stack file's `secretsprovider` (e.g. gcpkms://...), if it names one."""
    if not stack_file.is_file():
        return None
    for line in stack_file.read_text().splitlines():
        if line.startswith("secretsprovider:"):
            return line.split(":", 1)[1].strip() or None
    return None


def _stack_named(args: tuple[str, ...]) -> str | None:
    """The stack a pulumi command line targets (`--stack X`, `-s X`, `--stack=X`)."""
    for index, arg in enumerate(args):
        if arg in ("--stack", "-s") and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--stack="):
            return arg.split("=", 1)[1]
    return None
