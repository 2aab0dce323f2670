"""The chart released into its own namespace with the environment's values, pinned by digest."""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from envconfig import REPO_ROOT
from infra.config import ReleaseConfig
from infra.image_record import ImageRecord

CHART_DIR = REPO_ROOT / "chart"
CHART_NAME = "image-classifier"


@dataclass(frozen=True)
class ReleaseArgs:
    """What to release: the stack's chart section, the built image and the auth token."""

    config: ReleaseConfig
    chart_values: dict[str, Any]
    image: ImageRecord
    auth_token: pulumi.Output[str] | None


def release_values(
    chart_values: dict[str, Any], image: ImageRecord, auth_token: pulumi.Output[str] | None
) -> dict[str, Any]:
    """The stack's chart section, plus image.* from the record and auth.token from the secret."""
    values = dict(chart_values)
    values["image"] = {
        **values.get("image", {}),
        "repository": image.repository,
        "tag": image.tag,
        "digest": image.digest,
    }
    values["model"] = {**values.get("model", {}), "version": image.model_version}
    if auth_token is not None:
        values["auth"] = {**values.get("auth", {}), "token": auth_token}
    return values


def service_name(release_name: str, values: dict[str, Any]) -> str:
    """The chart's `fullname`: the Service, Deployment and HPA are all called this."""
    if values.get("fullnameOverride"):
        return str(values["fullnameOverride"])[:63].rstrip("-")
    chart = values.get("nameOverride") or CHART_NAME
    name = release_name if chart in release_name else f"{release_name}-{chart}"
    return name[:63].rstrip("-")


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
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        values = release_values(args.chart_values, args.image, args.auth_token)
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
        """In-cluster URL for ClusterIP; the load balancer's address for LoadBalancer."""
        service = service_name(args.config.name, values)
        namespace = args.config.namespace
        port = int((values.get("service") or {}).get("port", 80))
        if (values.get("service") or {}).get("type") != "LoadBalancer":
            return pulumi.Output.from_input(
                f"http://{service}.{namespace}.svc.cluster.local:{port}"
            )

        def external(_status: Any) -> pulumi.Output[str]:
            # Read only once the release exists; in a preview the address is simply unknown.
            live = k8s.core.v1.Service.get(
                f"{args.config.name}-service",
                f"{namespace}/{service}",
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            return live.status.apply(lambda status: _load_balancer_url(status, port))

        return self.helm_release.status.apply(external)


def _load_balancer_url(status: Any, port: int) -> str:
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        return "pending: the load balancer has no address yet"
    address = ingress[0].ip or ingress[0].hostname
    return f"http://{address}:{port}"
