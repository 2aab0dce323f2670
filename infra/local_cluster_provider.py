"""A dynamic provider for the project's local cluster (localcluster: control plane + real node).

Pulumi runs it in a separate process (pulumi-resource-pulumi-python) started in the project
directory, so `localcluster` imports from the repository there. A cluster that was already
running when the resource was created is adopted: deleting the resource leaves it running.
"""

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from ops.localcluster import LocalCluster


def _start() -> dict[str, Any]:
    cluster = LocalCluster()
    adopted = cluster.is_running()
    kubeconfig = cluster.up()
    return {
        "node": cluster.layout.node_name,
        "adopted": adopted,
        "kubeconfig": kubeconfig.read_text(),
    }


class LocalClusterProvider(ResourceProvider):
    """Create = start (or adopt) the cluster; delete = stop it unless it was adopted."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=LocalCluster().name, outs=_start())

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A stopped cluster (machine restart, `make cluster-down`) is started again by an update.
        return DiffResult(
            changes=not LocalCluster().is_running(), replaces=[], delete_before_replace=False
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = _start()
        # Still adopted only if it was adopted before and nobody had to start it again.
        outs["adopted"] = bool(outs["adopted"] and olds.get("adopted", False))
        return UpdateResult(outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("adopted", False):
            LocalCluster().down()


class LocalControlPlane(pulumi.dynamic.Resource):
    """The running local cluster; `kubeconfig` (the admin's) is a secret."""

    kubeconfig: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    node: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
        super().__init__(
            LocalClusterProvider(),
            name,
            {"node": None, "kubeconfig": None, "adopted": None},
            pulumi.ResourceOptions.merge(opts, secret),
        )
