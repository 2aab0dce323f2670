"""requirements.lock pins every package with its files' sha256, and pip, as every install
here runs it (`--require-hashes`), refuses a tampered wheel or an unpinned package."""

import subprocess
import sys
from pathlib import Path

import pytest

from imagebuild import wheelhouse
from ops.toolchain.lockfile import LOCK_FILE, LockError, format_lock, parse_lock, pinned, read_lock

pytestmark = pytest.mark.toolchain

# The flags of the Containerfile's install (and of the venv's, which reads PyPI instead).
OFFLINE_HASH_CHECKED = ("--no-index", "--require-hashes", "--no-deps")


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )


def test_the_committed_lock_is_in_its_canonical_hashed_form() -> None:
    pins = read_lock()
    assert pins and all(pin.hashes for pin in pins.values())
    assert format_lock(pins) == LOCK_FILE.read_text()


@pytest.mark.parametrize(
    "line",
    ["six", "six>=1.16", "six==1.17.0", "six==1.17.0 --hash=md5:abc", "six==1.17.0 --hash=sha256:"],
)
def test_a_package_without_a_version_and_a_sha256_is_refused(line: str) -> None:
    with pytest.raises(LockError, match="is not pinned as NAME==VERSION"):
        parse_lock(line + "\n")


def test_every_image_closure_is_locked_for_the_images_platform() -> None:
    for backend in wheelhouse.BACKENDS:
        closure = wheelhouse.locked_closure(backend)
        names = {pin.name.lower() for pin in closure}
        assert {"flask", "gunicorn", "cryptography"} <= names


@pytest.fixture(scope="module")
def locked_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """six's wheel as the lock pins it, and a requirements file with the lock's hash."""
    directory = tmp_path_factory.mktemp("wheels")
    requirements = directory / "requirements.txt"
    requirements.write_text(pinned("six").requirement() + "\n")
    result = pip("download", "--quiet", *OFFLINE_HASH_CHECKED[1:], "-r", str(requirements),
                 "--dest", str(directory / "good"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = (directory / "good").glob("six-*.whl")
    return wheel, requirements


def install(wheels: Path, requirements: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return pip("install", "--quiet", *OFFLINE_HASH_CHECKED, "--find-links", str(wheels),
               "-r", str(requirements), "--target", str(target))  # fmt: skip


def test_the_locked_wheel_installs(locked_wheel: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, requirements = locked_wheel
    result = install(wheel.parent, requirements, tmp_path / "target")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "target" / "six.py").is_file()


def test_a_tampered_wheel_is_refused(locked_wheel: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, requirements = locked_wheel
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    # A zip still readable by pip, one byte more at its end: only the hash tells.
    (tampered / wheel.name).write_bytes(wheel.read_bytes() + b"\0")
    result = install(tampered, requirements, tmp_path / "target")
    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in result.stderr
    assert not (tmp_path / "target" / "six.py").exists()


def test_an_unpinned_requirement_is_refused(
    locked_wheel: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = locked_wheel
    unpinned = tmp_path / "requirements.txt"
    unpinned.write_text("six\n")
    result = install(wheel.parent, unpinned, tmp_path / "target")
    assert result.returncode != 0
    assert "must have their versions pinned with ==" in result.stderr
