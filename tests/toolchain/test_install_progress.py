"""`make setup` announces each tool it must build as [k/n] with its cold estimate, links what
it built, and on a second run builds nothing (the tools here are tiny real builds: a script)."""

from pathlib import Path

import pytest

from ops.toolchain import install
from ops.toolchain.tools import Tool

pytestmark = pytest.mark.unit


def script_tool(name: str, seconds: int) -> Tool:
    def build(staging: Path) -> None:
        (staging / name).write_text("#!/bin/sh\necho built\n")

    return Tool(name, "1.0", (name,), build, seconds)


def test_tools_to_build_are_counted_and_a_second_run_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(install, "find_released", lambda binaries: None)
    monkeypatch.setattr(install, "TOOLS", (script_tool("one", 60), script_tool("two", 180)))
    install.install_tools([])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        "[setup] [1/2] one 1.0: building from the Go module proxy: about 60 s "
        "(about 4 min left in all)"
    )
    assert lines[2].startswith("[setup] [2/2] two 1.0: building from the Go module proxy: about")
    assert (install.bin_dir() / "two").read_text() == "#!/bin/sh\necho built\n"

    install.install_tools([])
    again = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in again] == ["[setup] one 1.0", "[setup] two 1.0"]
    assert all("cached in" in line for line in again)
