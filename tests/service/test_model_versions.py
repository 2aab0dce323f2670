"""Which version is served: the highest by default, MODEL_VERSION when pinned, none if missing."""

import shutil
import time
from pathlib import Path

import pytest

from bench.server import start_server

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def two_versions(local_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model base with the local model as versions 3 and 10 (10 > 3 as numbers, not as text)."""
    base = tmp_path_factory.mktemp("versions")
    for version in ("3", "10"):
        shutil.copytree(local_model, base / "image-classifier" / version)
    return base


@pytest.mark.parametrize(("pinned", "served"), [("", "10"), ("3", "3")])
def test_latest_or_pinned_version_is_served(
    two_versions: Path, tmp_path: Path, pinned: str, served: str
) -> None:
    server = start_server(
        two_versions, tmp_path / "gunicorn.log", MODEL_BACKEND="litert", MODEL_VERSION=pinned
    )
    try:
        server.wait_until("/v2/health/ready", 200, 60)
        assert server.get("/v2/models/image-classifier").json()["versions"] == [served]
        other = "3" if served == "10" else "10"
        assert server.get(f"/v1/models/image-classifier/versions/{other}").status_code == 404
    finally:
        server.stop()


def test_missing_pinned_version_is_not_ready_and_says_why(
    two_versions: Path, tmp_path: Path
) -> None:
    server = start_server(
        two_versions, tmp_path / "gunicorn.log", MODEL_BACKEND="litert", MODEL_VERSION="7"
    )
    try:
        server.wait_until("/v2/health/live", 200, 30)
        deadline = time.monotonic() + 30
        while (ready := server.get("/v2/health/ready").json())["state"] == "LOADING":
            assert time.monotonic() < deadline, "still loading after 30 s"
            time.sleep(0.1)
        assert ready["state"] == "FAILED" and not ready["ready"]
        assert "MODEL_VERSION=7" in ready["error"] and "[3, 10]" in ready["error"]
    finally:
        server.stop()
