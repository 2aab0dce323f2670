"""The dynamic provider behind the `local` kind, against the real local control plane."""

from pathlib import Path

import pytest

from infra.local_cluster_provider import LocalClusterProvider
from localcluster import LocalCluster

pytestmark = pytest.mark.pulumi


def test_a_running_cluster_is_adopted_and_outlives_delete(local_cluster: Path) -> None:
    provider = LocalClusterProvider()
    created = provider.create({"nodes": 2})
    outs = created.outs or {}
    assert outs["adopted"] is True
    assert outs["kubeconfig"] == local_cluster.read_text()
    assert provider.diff(created.id, outs, {"nodes": 2}).changes is False
    provider.delete(created.id, outs)
    assert LocalCluster().is_running()
