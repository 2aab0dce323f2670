"""Call the podman command line; failures become errors that show what podman said."""

import subprocess
from collections.abc import Sequence


class PodmanError(RuntimeError):
    """A podman command failed; the message holds the command and podman's own words."""


def podman(args: Sequence[str], *, quiet: bool = True) -> str:
    """Run `podman ARGS` and return its stdout; with quiet=False it prints to ours instead."""
    command = ["podman", *args]
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
        raise PodmanError("podman is not installed: run `make system` (as root)") from error
    if result.returncode != 0:
        said = (result.stderr or "").strip() or "(see the output above)"
        raise PodmanError(f"`{' '.join(command)}` failed with exit {result.returncode}: {said}")
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
