"""Which version is served: the highest by default, MODEL_VERSION when pinned, none if missing."""

import shutil
from pathlib import Path

import pytest

from service.settings import Backend, Settings
from tests.service.conftest import ready_app, settled_app

pytestmark = [pytest.mark.service, pytest.mark.realtime]


@pytest.fixture(scope="module")
def two_versions(local_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model base with the local model as versions 3 and 10 (10 > 3 as numbers, not as text)."""
    base = tmp_path_factory.mktemp("versions")
    for version in ("3", "10"):
        shutil.copytree(local_model, base / "image-classifier" / version)
    return base


def settings(base: Path, version: int | None) -> Settings:
    return Settings(model_base_path=base, model_backend=Backend.LITERT, model_version=version)


@pytest.mark.parametrize(("pinned", "served"), [(None, "10"), (3, "3")])
def test_latest_or_pinned_version_is_served(
    two_versions: Path, pinned: int | None, served: str
) -> None:
    client = ready_app(settings(two_versions, pinned)).test_client()
    assert client.get("/v2/models/image-classifier").get_json()["versions"] == [served]
    other = "3" if served == "10" else "10"
    assert client.get(f"/v1/models/image-classifier/versions/{other}").status_code == 404


def test_missing_pinned_version_is_not_ready_and_only_the_log_says_why(
    two_versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = settled_app(settings(two_versions, 7)).test_client()
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 503
    assert ready.get_json() == {"ready": False, "state": "FAILED"}
    logged = capsys.readouterr().out  # the app logs JSON lines to stdout
    assert "MODEL_VERSION=7" in logged and "[3, 10]" in logged
