"""The chart released into its own namespace with the environment's values, pinned by digest."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from imagebuild.record import ImageInfo
from infra.config import ReleaseConfig
from infra.values import CHART_DIR, release_values

CHART_NAME = "image-classifier"
# The key under which the release reports the Services Helm created (`Kind/apiVersion`).
SERVICES = "Service/v1"


@dataclass(frozen=True)
class ReleaseArgs:
    """What to release: the stack's chart section, the built image, the auth token and the
    data key of the image's model."""

    config: ReleaseConfig
    chart_values: dict[str, Any]
    image: ImageInfo
    auth_token: pulumi.Output[str] | None
    model_data_key: pulumi.Output[str]


def service_name(resource_names: Mapping[str, Sequence[str]] | None) -> str:
    """The one Service among the objects the release reports Helm created."""
    services = (resource_names or {}).get(SERVICES, [])
    if len(services) != 1:
        raise ValueError(f"expected the release to create one {SERVICES}, it reports {services}")
    # Objects whose manifest names a namespace are reported as `namespace/name`.
    return services[0].rsplit("/", 1)[-1]


class Release(pulumi.ComponentResource):
    """Namespace + Helm release of ./chart; waits until its workloads are Ready."""

    namespace: k8s.core.v1.Namespace
    helm_release: k8s.helm.v3.Release
    name: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    revision: pulumi.Output[int]
    endpoint: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ReleaseArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("image-classifier:infra:Release", name, None, opts)
        # A component's depends_on does not reach its children: the image push must precede
        # the Helm release itself.
        child = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=opts.depends_on if opts else None
        )
        values = release_values(args.chart_values, args.image, args.auth_token, args.model_data_key)
        # The release owns its namespace, so destroying the stack leaves nothing behind.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.config.namespace,
                labels={"app.kubernetes.io/part-of": CHART_NAME},
            ),
            opts=child,
        )
        self.helm_release = k8s.helm.v3.Release(
            name,
            k8s.helm.v3.ReleaseArgs(
                chart=str(CHART_DIR),
                name=args.config.name,
                namespace=self.namespace.metadata.name,
                values=values,
                # Wait for Ready workloads, and roll a failed upgrade back rather than half-apply.
                skip_await=False,
                atomic=True,
                cleanup_on_fail=True,
                timeout=args.config.timeoutSeconds,
            ),
            opts=child,
        )
        self.name = self.helm_release.status.name
        self.namespace_name = self.helm_release.status.namespace
        self.revision = self.helm_release.status.revision
        self.endpoint = self._endpoint(args, values, provider)
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace_name,
                "revision": self.revision,
                "endpoint": self.endpoint,
            }
        )

    def _endpoint(
        self, args: ReleaseArgs, values: dict[str, Any], provider: k8s.Provider
    ) -> pulumi.Output[str]:
        """https://host behind the Gateway; else the ClusterIP URL or the load balancer address."""
        gateway = values.get("gateway") or {}
        if gateway.get("enabled"):
            return pulumi.Output.from_input(f"https://{gateway['host']}")
        service = self.helm_release.resource_names.apply(service_name)
        namespace = args.config.namespace
        # The values are complete (chart defaults included): this is the port Helm rendered.
        port = int(values["service"]["port"])
        if values["service"]["type"] != "LoadBalancer":
            return service.apply(lambda name: f"http://{name}.{namespace}.svc.cluster.local:{port}")

        def external(name: str) -> pulumi.Output[str]:
            # Read only once the release exists; in a preview the address is simply unknown.
            live = k8s.core.v1.Service.get(
                f"{args.config.name}-service",
                f"{namespace}/{name}",
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            return live.status.apply(lambda status: _load_balancer_url(status, port))

        return service.apply(external)


def _load_balancer_url(status: Any, port: int) -> str:
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        return "pending: the load balancer has no address yet"
    address = ingress[0].ip or ingress[0].hostname
    return f"http://{address}:{port}"
