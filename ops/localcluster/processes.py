"""The cluster's host processes: started detached with a log and a pid file, stopped by pid.

They outlive the command that starts them (`make cluster-up`, or Pulumi's provider process),
so each runs in a session of its own and is found again through its pid file.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ops.localcluster.layout import Layout
from ops.toolchain.paths import bin_dir


class ProcessError(RuntimeError):
    """A component did not start, or did not become ready in time."""


def start(
    layout: Layout,
    name: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> int:
    """Start bin_dir()/`name` with `args`; output goes to logs/`name`.log."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    with open(layout.logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            [str(bin_dir() / name), *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            cwd=layout.root,
        )
    _pid_file(layout, name).write_text(f"{process.pid}\n")
    return process.pid


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of `name` if its pid file names a live process of that program."""
    try:
        pid = int(_pid_file(layout, name).read_text())
        executable = os.readlink(f"/proc/{pid}/exe")
    except (OSError, ValueError):
        return None
    return pid if Path(executable).name == name else None


def stop(layout: Layout, name: str, timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; a component that is not running is fine."""
    pid = running_pid(layout, name)
    if pid is not None:
        terminate(pid, timeout)
    _pid_file(layout, name).unlink(missing_ok=True)


def terminate(pid: int, timeout: float = 20.0) -> None:
    """Stop one process and wait until it is gone (reaped or a zombie of someone else's)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_for(lambda: not _alive(pid), timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_for(lambda: not _alive(pid), 10.0)


def processes_under(markers: Sequence[Path]) -> dict[int, str]:
    """Live processes whose command line names one of `markers` (the cluster's directories)."""
    found: dict[int, str] = {}
    needles = [str(marker) for marker in markers]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if cmdline and any(needle in cmdline for needle in needles) and _alive(int(proc.name)):
            found[int(proc.name)] = cmdline
    return found


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def log_tail(layout: Layout, name: str, lines: int = 15) -> str:
    """The end of a component's log, for error messages."""
    try:
        text = (layout.logs / f"{name}.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        # A zombie child of ours: reap it so it disappears.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _pid_file(layout: Layout, name: str) -> Path:
    return layout.run / f"{name}.pid"
