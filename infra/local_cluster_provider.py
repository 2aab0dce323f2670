"""A dynamic provider for the project's local control plane (localcluster, kwok nodes).

Pulumi runs it in a separate process (pulumi-resource-pulumi-python) started in the project
directory, so `localcluster` imports from the repository there. A cluster that was already
running when the resource was created is adopted: deleting the resource leaves it running.
"""

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from localcluster import LocalCluster


def _start(nodes: int) -> dict[str, Any]:
    cluster = LocalCluster(nodes=nodes)
    adopted = cluster.is_running()
    kubeconfig = cluster.up()
    return {"nodes": nodes, "adopted": adopted, "kubeconfig": kubeconfig.read_text()}


class LocalClusterProvider(ResourceProvider):
    """Create = start (or adopt) the cluster; delete = stop it unless it was adopted."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=LocalCluster().name, outs=_start(int(props["nodes"])))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A stopped cluster (machine restart, `make cluster-down`) is started again by an update.
        running = LocalCluster().is_running()
        changed = not running or int(olds.get("nodes", 0)) != int(news["nodes"])
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = _start(int(news["nodes"]))
        # Still adopted only if it was adopted before and nobody had to start it again.
        outs["adopted"] = bool(outs["adopted"] and olds.get("adopted", False))
        return UpdateResult(outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("adopted", False):
            LocalCluster().down()


class LocalControlPlane(pulumi.dynamic.Resource):
    """The running local control plane; `kubeconfig` is a secret."""

    kubeconfig: pulumi.Output[str]
    adopted: pulumi.Output[bool]

    def __init__(self, name: str, nodes: int, opts: pulumi.ResourceOptions | None = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
        super().__init__(
            LocalClusterProvider(),
            name,
            {"nodes": nodes, "kubeconfig": None, "adopted": None},
            pulumi.ResourceOptions.merge(opts, secret),
        )
