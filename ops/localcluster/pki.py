"""The local cluster's certificates and keys, made with the openssl command (ECDSA P-256).

One CA signs every component's identity (the names RBAC's default roles expect), a second
CA signs the front proxy's client certificate for the aggregation layer (metrics-server),
and one key pair signs service account tokens.
"""

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ops.localcluster.layout import CLUSTER_DOMAIN, KUBERNETES_SERVICE_IP, NODE_IP, Layout

CA_DAYS = 3650
LEAF_DAYS = 365


@dataclass(frozen=True)
class Identity:
    """A client certificate: CN is the user name, O the groups."""

    file: str
    common_name: str
    organization: str | None = None


def client_identities(layout: Layout) -> tuple[Identity, ...]:
    """Every component that talks to the API server, under the name RBAC knows it by."""
    return (
        Identity("admin", "admin", "system:masters"),
        Identity("kube-controller-manager", "system:kube-controller-manager"),
        Identity("kube-scheduler", "system:kube-scheduler"),
        Identity("kube-proxy", "system:kube-proxy"),
        Identity("kubelet", f"system:node:{layout.node_name}", "system:nodes"),
        Identity("coredns", "system:coredns"),
        Identity("metrics-server", "system:metrics-server"),
        Identity("kube-network-policies", "system:kube-network-policies"),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
    )


def ensure_pki(layout: Layout) -> None:
    """Create the certificates once; a cluster restart reuses them (kubeconfigs stay valid)."""
    pki = layout.pki
    if (pki / ".complete").exists():
        return
    pki.mkdir(parents=True, exist_ok=True)
    _key(pki / "ca.key")
    _self_signed_ca(pki / "ca.key", pki / "ca.crt", "image-classifier-local-ca")
    _key(pki / "front-proxy-ca.key")
    _self_signed_ca(pki / "front-proxy-ca.key", pki / "front-proxy-ca.crt", "front-proxy-ca")
    _key(pki / "sa.key")
    _public_key(pki / "sa.key", pki / "sa.pub")
    names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        "localhost",
    ]
    addresses = [NODE_IP, "127.0.0.1", KUBERNETES_SERVICE_IP]
    _leaf(pki, "apiserver", "kube-apiserver", None, "serverAuth", "ca", names, addresses)
    _leaf(
        pki, "metrics-server-serving", "metrics-server", None, "serverAuth", "ca",
        ["metrics-server.kube-system.svc"], [NODE_IP],
    )  # fmt: skip
    _leaf(pki, "front-proxy-client", "front-proxy-client", None, "clientAuth", "front-proxy-ca")
    for identity in client_identities(layout):
        _leaf(pki, identity.file, identity.common_name, identity.organization, "clientAuth", "ca")
    (pki / ".complete").write_text("ok\n")


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def _key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )
    path.chmod(0o600)


def _public_key(key: Path, out: Path) -> None:
    _openssl("pkey", "-in", str(key), "-pubout", "-out", str(out))


def _self_signed_ca(key: Path, cert: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-subj", f"/CN={name}",
        "-days", str(CA_DAYS), "-out", str(cert),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def _leaf(
    pki: Path,
    file: str,
    common_name: str,
    organization: str | None,
    usage: str,
    ca: str,
    dns_names: list[str] | None = None,
    addresses: list[str] | None = None,
) -> None:
    subject = (f"/O={organization}" if organization else "") + f"/CN={common_name}"
    extensions = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    alt_names = [f"DNS:{n}" for n in dns_names or []] + [f"IP:{a}" for a in addresses or []]
    if alt_names:
        extensions.append("subjectAltName=" + ",".join(alt_names))
    _key(pki / f"{file}.key")
    with tempfile.TemporaryDirectory() as tmp:
        csr, ext = Path(tmp) / "req.csr", Path(tmp) / "ext.cnf"
        ext.write_text("\n".join(extensions) + "\n")
        _openssl(
            "req", "-new", "-key", str(pki / f"{file}.key"), "-subj", subject, "-out", str(csr)
        )
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(pki / f"{ca}.crt"),
            "-CAkey", str(pki / f"{ca}.key"), "-set_serial", f"0x{_serial()}",
            "-days", str(LEAF_DAYS), "-extfile", str(ext), "-out", str(pki / f"{file}.crt"),
        )  # fmt: skip


def _serial() -> str:
    with open("/dev/urandom", "rb") as random:
        return random.read(16).hex()
