"""Call the podman and skopeo command lines (skopeo reads podman's storage); failures become
errors that show what the tool said."""

import subprocess
from collections.abc import Sequence


class PodmanError(RuntimeError):
    """A podman or skopeo command failed; the message holds the command and the tool's words."""


def podman(args: Sequence[str], *, quiet: bool = True) -> str:
    """Run `podman ARGS` and return its stdout; with quiet=False it prints to ours instead."""
    command = ["podman", *args]
    return _run(command, shown=" ".join(command), quiet=quiet)


def skopeo(args: Sequence[str]) -> str:
    """Run `skopeo ARGS` and return its stdout. A failure names the subcommand only: the
    arguments may hold registry credentials."""
    return _run(["skopeo", *args], shown=f"skopeo {args[0]}", quiet=True)


def _run(command: list[str], *, shown: str, quiet: bool) -> str:
    capture = subprocess.PIPE if quiet else None
    try:
        result = subprocess.run(
            command,
            stdout=capture,
            stderr=capture,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise PodmanError(f"{command[0]} is not installed: run `make system` (as root)") from error
    if result.returncode != 0:
        said = (result.stderr or "").strip()[-2000:] or "(see the output above)"
        raise PodmanError(f"`{shown}` failed with exit {result.returncode}: {said}")
    return result.stdout or ""


def inspect_image(reference: str, template: str) -> str | None:
    """`podman image inspect --format TEMPLATE`, or None when there is no such image."""
    result = subprocess.run(
        ["podman", "image", "inspect", "--format", template, reference],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None
