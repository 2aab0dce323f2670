"""A real gunicorn running the service for a model directory on a free port (bench and tests);
`launch` starts any server the same way (the bench's peers, from their own virtualenvs)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from envconfig import REPO_ROOT
from service.settings import Settings

GUNICORN_CONFIG = REPO_ROOT / "service" / "gunicorn.conf.py"
SERVICE_VARIABLES = {name.upper() for name in Settings.model_fields}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A started gunicorn master; `url` is its base URL, `log` its combined output."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    started: float = field(default_factory=time.monotonic)
    group: bool = False  # stop the whole process group: servers whose workers outlive a SIGTERM

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET url+path."""
        kwargs.setdefault("timeout", 30)
        return requests.get(self.url + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST url+path."""
        kwargs.setdefault("timeout", 30)
        return requests.post(self.url + path, **kwargs)

    def wait_until(self, path: str, status: int, timeout: float) -> float:
        """Poll `path` until it answers `status`; seconds waited, or AssertionError with the log."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if self.get(path).status_code == status:
                    return time.monotonic() - began
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{path} did not answer {status} within {timeout}s:\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        """PIDs of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def tail(self, lines: int = 40) -> str:
        """The last lines of the server's output."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM the master (or its group) and wait for it (SIGKILL after 30 s)."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        if self.group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind by the master

    def _signal(self, number: int) -> None:
        if self.group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)


def launch(
    arguments: list[str],
    port: int,
    log: Path,
    env: dict[str, str],
    python: str = sys.executable,
    cwd: Path = REPO_ROOT,
    group: bool = False,
    niceness: int = 0,
) -> Server:
    """Run `python <arguments>` in `cwd` with `env`, output to `log`; in a process group of its
    own if `group`; `niceness` above 0 lets a load generator on the same CPUs go first."""
    niced = ["nice", "-n", str(niceness)] if niceness else []
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*niced, python, *arguments],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
    return Server(process=process, url=f"http://127.0.0.1:{port}", log=log, group=group)


def start_server(model_base: Path, log: Path, **variables: str) -> Server:
    """Start gunicorn with the service config and `variables` (e.g. MODEL_BACKEND="litert")."""
    return start_niced_server(model_base, log, 0, variables)


def start_niced_server(
    model_base: Path, log: Path, niceness: int, variables: Mapping[str, str]
) -> Server:
    """start_server at `niceness`: above 0, a load generator on the same CPUs goes first."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env |= {"PORT": str(port), "MODEL_BASE_PATH": str(model_base), **variables}
    arguments = ["-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    return launch(arguments, port, log, env, niceness=niceness)
