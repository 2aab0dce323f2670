"""Virtualenvs for the peer servers, outside the repo, built by the bench and reused when present.

Each peer gets `~/.cache/image-classifier/bench-peers/<name>-<version>/`: a venv with the
framework's pin and the project's own TensorFlow pin (read from requirements.lock, so peers run
exactly the TF the service runs; pip takes the wheel from its cache). A `.complete` marker
holding the requirement list is written last, so a half-built venv is rebuilt, not reused.
"""

import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

from ops.toolchain.lockfile import pinned

PEERS_CACHE = Path.home() / ".cache" / "image-classifier" / "bench-peers"
INSTALL_TIMEOUT_SECONDS = 1200


def locked(package: str) -> str:
    """`package==version` as requirements.lock pins it; LockError naming the lock if it does not."""
    pin = pinned(package)
    return f"{pin.name}=={pin.version}"


@dataclass(frozen=True)
class PeerEnv:
    """A venv at `path` holding exactly `requirements`."""

    path: Path
    requirements: tuple[str, ...]

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.path / "bin" / "python"

    @property
    def marker(self) -> Path:
        """Written after a successful install; holds the requirement list."""
        return self.path / ".complete"

    def ready(self) -> bool:
        """True when the venv was completely built for these requirements."""
        return self.marker.is_file() and self.marker.read_text() == "\n".join(self.requirements)


class InstallError(RuntimeError):
    """pip could not build the venv; the message is pip's own closing lines."""


def peer_env(name: str, requirements: tuple[str, ...], cache: Path = PEERS_CACHE) -> PeerEnv:
    """Where `name` (e.g. "kserve-0.21.0") lives and what it must hold."""
    return PeerEnv(cache / name, requirements)


def ensure_env(env: PeerEnv, log: Path) -> PeerEnv:
    """Build `env` unless it is ready; InstallError with pip's closing lines if pip fails."""
    if env.ready():
        return env
    env.path.parent.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env.path)
    command = [str(env.python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    with log.open("w") as output:
        try:
            result = subprocess.run(
                [*command, *env.requirements],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise InstallError(f"pip install took over {INSTALL_TIMEOUT_SECONDS} s") from error
    if result.returncode != 0:
        closing = [line for line in log.read_text().splitlines() if line.strip()][-6:]
        raise InstallError(" / ".join(closing))
    env.marker.write_text("\n".join(env.requirements))
    return env
