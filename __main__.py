"""image-classifier: validated stack config -> cluster -> image push -> Helm release -> outputs."""

import pulumi

from imagebuild.push import released_image
from infra.cluster import Cluster, loopback_url
from infra.config import load_settings
from infra.gke_https import gateway_values
from infra.image_push import PushedImage
from infra.release import Release, ReleaseArgs

settings = load_settings()

cluster = Cluster("cluster", settings.cluster)

image = settings.image
release_opts = None
if cluster.registry is not None:
    # The cluster pulls from its registry: push the built archive there, release that digest.
    image = released_image(settings.image, cluster.registry)
    push = PushedImage(
        "image",
        settings.image,
        cluster.registry,
        insecure=cluster.registry_insecure,
        opts=pulumi.ResourceOptions(depends_on=[cluster]),
    )
    release_opts = pulumi.ResourceOptions(depends_on=[push])

release = Release(
    "image-classifier",
    ReleaseArgs(
        config=settings.release,
        # On GKE with `https`, the chart's Gateway gets the names of what GkeCluster created.
        chart_values=gateway_values(settings.chart_values, settings.cluster, settings.stack),
        image=image,
        auth_token=settings.auth_token,
    ),
    provider=cluster.provider,
    opts=release_opts,
)

pulumi.export("clusterKind", cluster.kind)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", release.endpoint)
pulumi.export("releaseName", release.name)
pulumi.export("releaseNamespace", release.namespace_name)
pulumi.export("releaseRevision", release.revision)
pulumi.export("modelVersion", settings.image.model_version)
pulumi.export("image", f"{image.repository}@{image.digest}")
pulumi.export("imageDigest", image.digest)
if cluster.kind == "local" and (url := loopback_url(settings.chart_values)) is not None:
    pulumi.export("localUrl", url)
