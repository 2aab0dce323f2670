"""GkeCluster built alone under pulumi mocks, per GKE stack, asserted the testing-unit-py way:
on the resources' outputs, inside `Output.all(...).apply(...)` under `@pulumi.runtime.test`.
Under mocks, nested outputs arrive as dicts keyed by the Python argument names."""

from typing import Any

import pulumi
import pytest

from envconfig import PROJECT
from infra.config import GkeClusterConfig
from infra.gke import GkeCluster
from tests.pulumi.harness import stack_config, use_mocks

pytestmark = pytest.mark.pulumi

GKE_STACKS = ("staging", "prod")
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def build(stack: str) -> tuple[GkeClusterConfig, GkeCluster]:
    """The stack file's GKE section and the component made from it."""
    use_mocks(stack)
    config = GkeClusterConfig.model_validate(stack_config(stack)[f"{PROJECT}:cluster"])
    return config, GkeCluster("gke", config)


@pytest.mark.parametrize("stack", GKE_STACKS)
@pulumi.runtime.test
def test_network_policy_is_enforced_and_nodes_are_private(stack: str) -> pulumi.Output[None]:
    config, gke = build(stack)

    def check(args: list[Any]) -> None:
        datapath, private, authorized = args
        assert datapath == "ADVANCED_DATAPATH"
        assert private["enable_private_nodes"] is True
        assert private["enable_private_endpoint"] is config.privateEndpoint
        assert [block["cidr_block"] for block in authorized["cidr_blocks"]] == [
            network.cidrBlock for network in config.masterAuthorizedNetworks
        ]
        assert authorized["gcp_public_cidrs_access_enabled"] is False

    return pulumi.Output.all(
        gke.cluster.datapath_provider,
        gke.cluster.private_cluster_config,
        gke.cluster.master_authorized_networks_config,
    ).apply(check)


@pytest.mark.parametrize("stack", GKE_STACKS)
@pulumi.runtime.test
def test_cluster_keeps_workload_identity_without_legacy_abac(stack: str) -> pulumi.Output[None]:
    config, gke = build(stack)

    def check(args: list[Any]) -> None:
        shielded, abac, identity, master_auth = args
        assert shielded is True
        assert abac is False
        assert identity["workload_pool"] == f"{config.project}.svc.id.goog"
        assert master_auth["client_certificate_config"]["issue_client_certificate"] is False

    return pulumi.Output.all(
        gke.cluster.enable_shielded_nodes,
        gke.cluster.enable_legacy_abac,
        gke.cluster.workload_identity_config,
        gke.cluster.master_auth,
    ).apply(check)


@pytest.mark.parametrize("stack", GKE_STACKS)
@pulumi.runtime.test
def test_nodes_run_shielded_as_the_dedicated_account(stack: str) -> pulumi.Output[None]:
    _, gke = build(stack)

    def check(args: list[Any]) -> None:
        email, pool, default_pool = args
        assert email.startswith("image-classifier-nodes@")
        for node_config in (pool, default_pool):
            assert node_config["service_account"] == email
            assert CLOUD_PLATFORM not in node_config["oauth_scopes"]
            assert node_config["shielded_instance_config"]["enable_secure_boot"] is True
            assert node_config["shielded_instance_config"]["enable_integrity_monitoring"] is True
            assert node_config["workload_metadata_config"]["mode"] == "GKE_METADATA"

    return pulumi.Output.all(
        gke.node_service_account.email,
        gke.node_pool.node_config,
        gke.cluster.node_config,
    ).apply(check)
