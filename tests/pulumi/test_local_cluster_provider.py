"""The dynamic provider behind the `local` kind, against the real local cluster."""

from pathlib import Path

import pytest

from infra.local_cluster_provider import LocalClusterProvider
from ops.localcluster import LocalCluster

pytestmark = pytest.mark.pulumi


def test_a_running_cluster_is_adopted_and_outlives_delete(local_cluster: Path) -> None:
    provider = LocalClusterProvider()
    created = provider.create({})
    outs = created.outs or {}
    assert outs["adopted"] is True
    assert outs["kubeconfig"] == local_cluster.read_text()
    assert provider.diff(created.id, outs, {}).changes is False
    provider.delete(created.id, outs)
    assert LocalCluster().is_running()
