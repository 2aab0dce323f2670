"""image-classifier: validated stack config -> cluster -> image push -> Helm release -> outputs."""

import pulumi

from imagebuild.push import released_image
from imagebuild.record import ImageInfo
from infra.cluster import Cluster, loopback_url
from infra.config import load_settings
from infra.gke_https import gateway_values
from infra.image_push import PushedImage
from infra.release import Release, ReleaseArgs
from infra.values import canary_values

settings = load_settings()

cluster = Cluster("cluster", settings.cluster)
pushes: list[pulumi.Resource] = []


def delivered(name: str, built: ImageInfo) -> ImageInfo:
    """The image as the cluster pulls it: pushed to the cluster's registry when it has one."""
    if cluster.registry is None:
        return built
    pushes.append(
        PushedImage(
            name,
            built,
            cluster.registry,
            insecure=cluster.registry_insecure,
            credentials=cluster.registry_credentials,
            opts=pulumi.ResourceOptions(depends_on=[cluster]),
        )
    )
    return released_image(built, cluster.registry)


chart_values = gateway_values(settings.chart_values, settings.cluster, settings.stack)
stable = settings.image
if settings.canary is not None and settings.canary_image is not None:
    if settings.canary.promote:
        stable = settings.canary_image
    else:
        canary = delivered("canary-image", settings.canary_image)
        chart_values = {**chart_values, **canary_values(canary, settings.canary.replicas)}
image = delivered("image", stable)

release = Release(
    "image-classifier",
    ReleaseArgs(
        config=settings.release,
        # On GKE with `https`, the chart's Gateway gets the names of what GkeCluster created.
        chart_values=chart_values,
        image=image,
        auth_token=settings.auth_token,
        model_data_key=settings.model_data_key,
    ),
    provider=cluster.provider,
    opts=pulumi.ResourceOptions(depends_on=pushes),
)

pulumi.export("clusterKind", cluster.kind)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", release.endpoint)
pulumi.export("releaseName", release.name)
pulumi.export("releaseNamespace", release.namespace_name)
pulumi.export("releaseRevision", release.revision)
pulumi.export("modelVersion", image.model_version)
pulumi.export("image", f"{image.repository}@{image.digest}")
pulumi.export("imageDigest", image.digest)
if "canary" in chart_values:
    pulumi.export("canaryModelVersion", chart_values["canary"]["model"]["version"])
if cluster.kind == "local" and (url := loopback_url(settings.chart_values)) is not None:
    pulumi.export("localUrl", url)
if cluster.kms is not None:
    # The data key wrapped by the stack's KMS key: recoverable with KMS decrypt rights alone.
    pulumi.export(
        "modelDataKeyCiphertext", cluster.kms.wrap("model-data-key", settings.model_data_key)
    )
if cluster.https is not None:
    # Add these to the host's DNS zone: the certificate is issued once the CNAME resolves.
    pulumi.export("httpsAddress", cluster.https.address.address)
    pulumi.export("certificateDnsRecords", cluster.https.dns_authorization.dns_resource_records)
