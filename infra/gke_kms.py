"""Cloud KMS for a GKE stack's model data key (envelope encryption).

The stack's key ring and key wrap the cluster's Secrets at rest (GKE application-layer secrets
encryption: etcd holds the Secret with the data key only under a key this KMS key wraps, and
only GKE's service agent may use it), and wrap a copy of the data key itself, exported as
ciphertext: whoever may decrypt with the KMS key can recover the data key without the build host.
"""

import pulumi
import pulumi_gcp as gcp

from infra.config import GkeClusterConfig

ROTATION_PERIOD = f"{90 * 24 * 3600}s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


class ModelKeyKms(pulumi.ComponentResource):
    """Key ring + key (rotated every 90 days) and the GKE service agent's right to use it."""

    key_ring: gcp.kms.KeyRing
    crypto_key: gcp.kms.CryptoKey
    gke_agent: gcp.kms.CryptoKeyIAMMember

    def __init__(
        self, name: str, config: GkeClusterConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("image-classifier:infra:ModelKeyKms", name, None, opts)
        # Google Cloud never deletes a key ring or key (destroy forgets them and destroys the
        # key's versions): protected where the cluster is.
        child = pulumi.ResourceOptions(parent=self, protect=config.protect)
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-ring", name="image-classifier", location=config.region, opts=child
        )
        self.crypto_key = gcp.kms.CryptoKey(
            f"{name}-key",
            name="model-data-key",
            key_ring=self.key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION_PERIOD,
            opts=child,
        )
        project = gcp.organizations.get_project_output(
            project_id=config.project, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        # The cluster's control plane encrypts and decrypts Secrets as GKE's service agent.
        self.gke_agent = gcp.kms.CryptoKeyIAMMember(
            f"{name}-gke-agent",
            crypto_key_id=self.crypto_key.id,
            role=ENCRYPTER_DECRYPTER,
            member=project.number.apply(
                lambda number: f"serviceAccount:service-{number}@container-engine-robot"
                ".iam.gserviceaccount.com"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"cryptoKey": self.crypto_key.id})

    def wrap(self, name: str, plaintext: pulumi.Input[str]) -> pulumi.Output[str]:
        """`plaintext` encrypted with the key (base64 ciphertext); the plaintext stays secret."""
        ciphertext = gcp.kms.SecretCiphertext(
            name,
            crypto_key=self.crypto_key.id,
            plaintext=pulumi.Output.secret(plaintext),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return ciphertext.ciphertext
