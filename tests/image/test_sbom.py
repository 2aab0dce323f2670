"""Each image's CycloneDX SBOM, listed in the record, says exactly what the image holds: its
Debian packages, its Python packages (with the lock's wheel hashes), the service's compiled
resize kernel and its model version; the base those packages come from carries the security
suite's updates."""

import json
from pathlib import Path
from typing import Any

import pytest
from testinfra.host import Host

from envconfig import REPO_ROOT
from imagebuild.base import BASE_IMAGE
from imagebuild.podman import podman
from imagebuild.record import ImageInfo
from modelartifact.artifact import sha256_file
from ops.toolchain.lockfile import normalize, read_lock

pytestmark = pytest.mark.image

# No double quotes inside: the command runs as `python -c "..."` in the container's shell.
INSTALLED_PYTHON = (
    "import importlib.metadata as m; "
    "print(*(d.metadata['Name'] + '==' + d.version for d in m.distributions()), sep=chr(10))"
)


def sbom(image: ImageInfo) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO_ROOT / image.sbom).read_text())
    return document


def purls(image: ImageInfo, kind: str) -> set[str]:
    return {
        component["purl"].split("?")[0]
        for component in sbom(image)["components"]
        if component.get("purl", "").startswith(f"pkg:{kind}/")
    }


def test_the_sbom_is_cyclonedx_describing_this_image(image: ImageInfo) -> None:
    document = sbom(image)
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.5")
    assert document["metadata"]["component"]["bom-ref"] == f"{image.reference}@{image.digest}"
    assert Path(image.sbom).name.endswith(".sbom.cdx.json")


def test_its_python_packages_are_exactly_those_installed(image: ImageInfo, host: Host) -> None:
    installed = host.run(f'/opt/venv/bin/python -c "{INSTALLED_PYTHON}"').stdout.split()
    assert purls(image, "pypi") == {
        f"pkg:pypi/{name.lower()}@{version}"
        for name, version in (line.split("==") for line in installed)
    }
    lock = read_lock()
    for component in sbom(image)["components"]:
        if component.get("purl", "").startswith("pkg:pypi/"):
            hashes = {entry["content"] for entry in component["hashes"]}
            assert hashes <= lock[normalize(component["name"])].hashes


def test_its_debian_packages_are_exactly_those_the_image_records(
    image: ImageInfo, host: Host
) -> None:
    status = host.file("/var/lib/dpkg/status").content_string
    installed = set()
    for entry in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in entry.splitlines() if ": " in line)
        if fields.get("Status", "").endswith(" installed"):
            installed.add(f"pkg:deb/debian/{fields['Package']}@{fields['Version']}")
    assert purls(image, "deb") == installed
    assert any(purl.startswith("pkg:deb/debian/python3.11@") for purl in installed)


def test_its_compiled_kernel_is_the_file_the_image_holds(image: ImageInfo, host: Host) -> None:
    [kernel] = [c for c in sbom(image)["components"] if c["type"] == "file"]
    assert kernel["name"] == "/app/service/native/libresize.so"
    assert kernel["hashes"] == [{"alg": "SHA-256", "content": host.file(kernel["name"]).sha256sum}]


def test_its_model_is_the_version_baked_in(image: ImageInfo, local_model: Path) -> None:
    [model] = [c for c in sbom(image)["components"] if c["type"] == "machine-learning-model"]
    assert model["version"] == str(image.model_version) == local_model.name
    assert model["hashes"] == [
        {"alg": "SHA-256", "content": sha256_file(local_model / "metadata.json")}
    ]


def test_the_base_takes_the_security_suite(image: ImageInfo) -> None:
    sources = podman(["run", "--rm", BASE_IMAGE, "cat", "/etc/apt/sources.list"])
    assert "bookworm-security main" in sources
    assert "bookworm-updates main" in sources
