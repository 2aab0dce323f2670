"""requirements.lock: every Python package pinned to one version, with the sha256 of each file
an install may take (this host's wheel and the image's), in pip's hash-checking format.

Every install reads it with `--require-hashes`: the venv, the image's wheelhouse and the
image's own `pip install`, so a tampered or substituted file is refused.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# setup reads the lock with the system's Python, before the venv exists: stdlib only here.
LOCK_FILE = Path(__file__).resolve().parents[2] / "requirements.lock"
HEADER = (
    "# Every Python package, resolved from pyproject.toml's pins (all extras), with the sha256\n"
    "# of every file an install may use. Regenerate: make lock\n"
)
_HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")


class LockError(ValueError):
    """requirements.lock is malformed or lacks a package; the message says what to run."""


@dataclass(frozen=True)
class Pin:
    """One package of the lock: its name as written, version and accepted file hashes."""

    name: str
    version: str
    hashes: frozenset[str]

    def requirement(self) -> str:
        """The pin as a hash-checking requirement line (with continuation lines)."""
        hashes = "".join(f" \\\n    --hash=sha256:{digest}" for digest in sorted(self.hashes))
        return f"{self.name}=={self.version}{hashes}"


def normalize(name: str) -> str:
    """PEP 503 name, so `prometheus_client` in the lock matches `prometheus-client`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _logical_lines(text: str) -> Iterable[str]:
    """Lines with comments dropped and `\\` continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield line
    if pending.strip():
        yield pending.strip()


def parse_lock(text: str, source: Path = LOCK_FILE) -> dict[str, Pin]:
    """The pins of a lock's text, keyed by normalized name; LockError on anything unpinned."""
    pins: dict[str, Pin] = {}
    for line in _logical_lines(text):
        requirement, *options = line.split()
        name, separator, version = requirement.partition("==")
        hashes = [_HASH.match(option) for option in options]
        if not separator or not version or not all(hashes) or not hashes:
            raise LockError(
                f"{source}: {requirement!r} is not pinned as NAME==VERSION with its"
                " --hash=sha256:... values; run `make lock`"
            )
        pins[normalize(name)] = Pin(
            name, version, frozenset(match.group(1) for match in hashes if match)
        )
    return pins


def read_lock(lock: Path = LOCK_FILE) -> dict[str, Pin]:
    """The pins of the lock file."""
    return parse_lock(lock.read_text(), lock)


def format_lock(pins: Mapping[str, Pin]) -> str:
    """The lock file's text: the header, then one pin per package, sorted by name."""
    ordered = sorted(pins.values(), key=lambda pin: normalize(pin.name))
    return HEADER + "\n".join(pin.requirement() for pin in ordered) + "\n"


def pinned(package: str, lock: Path = LOCK_FILE) -> Pin:
    """The lock's pin of `package`; LockError naming the lock if it has none."""
    pin = read_lock(lock).get(normalize(package))
    if pin is None:
        raise LockError(f"{lock}: no pin for {package}; run `make lock`")
    return pin
