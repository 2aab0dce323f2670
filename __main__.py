"""image-classifier: validated stack config -> cluster -> Helm release -> stack outputs."""

import pulumi

from infra.cluster import Cluster
from infra.config import load_settings
from infra.gke_https import gateway_values
from infra.release import Release, ReleaseArgs

settings = load_settings()

cluster = Cluster("cluster", settings.cluster)

release = Release(
    "image-classifier",
    ReleaseArgs(
        config=settings.release,
        # On GKE with `https`, the chart's Gateway gets the names of what GkeCluster created.
        chart_values=gateway_values(settings.chart_values, settings.cluster, settings.stack),
        image=settings.image,
        auth_token=settings.auth_token,
    ),
    provider=cluster.provider,
)

pulumi.export("clusterKind", cluster.kind)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", release.endpoint)
pulumi.export("releaseName", release.name)
pulumi.export("releaseNamespace", release.namespace_name)
pulumi.export("releaseRevision", release.revision)
pulumi.export("modelVersion", settings.image.model_version)
pulumi.export("imageDigest", settings.image.digest)
