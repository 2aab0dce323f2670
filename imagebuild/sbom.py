"""A CycloneDX 1.5 SBOM per image: the base's Debian packages, the backend's Python packages
(with the wheels' sha256 from requirements.lock), the service's compiled resize kernel and the
model version baked in."""

import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from imagebuild.base import DebPackage
from modelartifact import ModelArtifact
from modelartifact.artifact import sha256_file
from modelartifact.layout import METADATA_FILE
from ops.toolchain.lockfile import Pin

SPEC_VERSION = "1.5"
DISTRO = "debian-12"


def _deb(package: DebPackage) -> dict[str, Any]:
    purl = (
        f"pkg:deb/debian/{package.name}@{package.version}"
        f"?arch={package.architecture}&distro={DISTRO}"
    )
    return {
        "type": "library",
        "bom-ref": purl,
        "name": package.name,
        "version": package.version,
        "purl": purl,
    }


def _python(pin: Pin) -> dict[str, Any]:
    purl = f"pkg:pypi/{pin.name.lower()}@{pin.version}"
    return {
        "type": "library",
        "bom-ref": purl,
        "name": pin.name,
        "version": pin.version,
        "purl": purl,
        "hashes": [{"alg": "SHA-256", "content": digest} for digest in sorted(pin.hashes)],
    }


def _file(path: Path, in_image: str) -> dict[str, Any]:
    return {
        "type": "file",
        "bom-ref": f"file:{in_image}",
        "name": in_image,
        "hashes": [{"alg": "SHA-256", "content": sha256_file(path)}],
    }


def _model(artifact: ModelArtifact) -> dict[str, Any]:
    # metadata.json lists every model file's sha256, so its own hash pins them all.
    return {
        "type": "machine-learning-model",
        "bom-ref": f"model:{artifact.name}@{artifact.version}",
        "name": artifact.name,
        "version": str(artifact.version),
        "hashes": [{"alg": "SHA-256", "content": sha256_file(artifact.path / METADATA_FILE)}],
    }


def cyclonedx(
    reference: str,
    digest: str,
    created: str,
    debian: Iterable[DebPackage],
    python: Iterable[Pin],
    compiled: dict[str, Path],
    artifact: ModelArtifact,
) -> dict[str, Any]:
    """The SBOM of the image `reference` (manifest `digest`), built at `created`; `compiled`
    maps each file the project compiles for the image, by its path there, to the built file."""
    components = [
        *(_deb(package) for package in sorted(debian, key=lambda p: p.name)),
        *(_python(pin) for pin in sorted(python, key=lambda p: p.name.lower())),
        *(_file(path, in_image) for in_image, path in sorted(compiled.items())),
        _model(artifact),
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        # The same image always gets the same document: its serial derives from the digest.
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{reference}@{digest}')}",
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": {"components": [{"type": "application", "name": "imagebuild"}]},
            "component": {
                "type": "container",
                "bom-ref": f"{reference}@{digest}",
                "name": reference.rsplit(":", 1)[0],
                "version": reference.rsplit(":", 1)[1],
            },
        },
        "components": components,
    }


def write_sbom(document: dict[str, Any], path: Path) -> Path:
    """Write the SBOM as stable, indented JSON, by a rename (hard links to the old one keep it)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    partial.rename(path)
    return path
