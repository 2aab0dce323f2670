"""`make native`: the resize kernel builds to the same bytes from any clone (so the image's layer
cache holds), only when its source is newer, and a compile error names the source."""

import os
import shutil
from pathlib import Path

import pytest

from ops.toolchain.native import SOURCE, NativeBuildError, build_native

pytestmark = pytest.mark.toolchain


def clone_source(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(SOURCE, directory / SOURCE.name))


def test_two_clones_build_the_same_bytes(tmp_path: Path) -> None:
    first = build_native(clone_source(tmp_path / "one" / "clone"))
    second = build_native(clone_source(tmp_path / "elsewhere" / "two"))
    assert first.read_bytes() == second.read_bytes()


def test_it_rebuilds_only_when_the_source_is_newer(tmp_path: Path) -> None:
    source = clone_source(tmp_path)
    library = build_native(source)
    built = library.stat().st_mtime_ns
    assert build_native(source).stat().st_mtime_ns == built
    later = built + 10**9
    os.utime(source, ns=(later, later))
    assert build_native(source).stat().st_mtime_ns > built


def test_a_compile_error_names_the_source(tmp_path: Path) -> None:
    source = clone_source(tmp_path)
    source.write_text(source.read_text() + "\nthis is not C;\n")
    with pytest.raises(NativeBuildError, match=str(source)):
        build_native(source)
    assert not source.with_name("libresize.so").exists()
