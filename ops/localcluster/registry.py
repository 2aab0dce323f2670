"""The local cluster's OCI registry (CNCF Distribution on 127.0.0.1:5000): pushes by digest.

Images reach the node the way they reach any cluster: pushed here, then pulled by containerd
by digest. The pod sandbox's `pause` image is built from the kubelet's own source as a
one-layer OCI layout and pushed the same way.
"""

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ops.localcluster.layout import REGISTRY
from ops.toolchain.paths import bin_dir


class RegistryError(RuntimeError):
    """A push to, or a query of, the local registry failed."""


def is_serving() -> bool:
    """True when the registry answers its API base endpoint."""
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def manifest_digest(repository: str, reference: str) -> str | None:
    """The digest the registry holds for repository:reference (tag or digest), else None."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repository}/manifests/{reference}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise RegistryError(
            f"registry answered {error.code} for {repository}:{reference}"
        ) from None


def push_oci_layout(layout_dir: Path, repository: str, tag: str) -> str:
    """`skopeo copy` an OCI layout directory to REGISTRY/repository:tag; return the digest."""
    with tempfile.TemporaryDirectory() as tmp:
        digest_file = Path(tmp) / "digest"
        _run(
            "skopeo", "copy", "--quiet", "--dest-tls-verify=false",
            "--digestfile", str(digest_file),
            f"oci:{layout_dir}:{tag}", f"docker://{REGISTRY}/{repository}:{tag}",
        )  # fmt: skip
        return _checked_digest(repository, tag, digest_file.read_text().strip())


def _checked_digest(repository: str, tag: str, pushed: str) -> str:
    """The pushed digest, after checking that the registry now serves exactly that."""
    served = manifest_digest(repository, tag)
    if served != pushed:
        raise RegistryError(
            f"pushed {repository}:{tag} as {pushed}, but the registry serves {served}"
        )
    return pushed


def write_pause_layout(target: Path, tag: str) -> None:
    """An OCI image layout holding bin_dir()/pause as /pause, its entrypoint."""
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w", format=tarfile.PAX_FORMAT) as archive:
        binary = (bin_dir() / "pause").resolve()
        info = archive.gettarinfo(str(binary), arcname="pause")
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        info.mode = 0o755
        with binary.open("rb") as handle:
            archive.addfile(info, handle)
    diff_id = "sha256:" + hashlib.sha256(layer_tar.getvalue()).hexdigest()
    layer = gzip.compress(layer_tar.getvalue(), mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    blobs = target / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    layer_descriptor = _blob(blobs, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
    config_descriptor = _blob(
        blobs, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": [layer_descriptor],
    }
    manifest_descriptor = _blob(
        blobs, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json"
    )
    manifest_descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (target / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    index = {"schemaVersion": 2, "manifests": [manifest_descriptor]}
    (target / "index.json").write_text(json.dumps(index))


def _blob(blobs: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RegistryError(f"{' '.join(command[:2])} failed: {result.stderr.strip()[-2000:]}")
