"""A hardened GKE cluster in its own VPC with one autoscaled node pool, and a kubeconfig for it.

Hardening: Dataplane V2 (so NetworkPolicies are enforced), private nodes, a control plane
reachable only from the stack's authorized networks, shielded nodes with secure boot and
integrity monitoring, a node service account holding only what nodes need, workload
identity, legacy ABAC and client certificates off.
"""

from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.config import GkeClusterConfig
from infra.gke_https import GkeHttpsFrontend
from infra.gke_kms import ModelKeyKms

# What nodes themselves need: write logs and metrics, read metrics for autoscaling, attach
# resource metadata, pull images. Pods get their own identities through workload identity.
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
# Scopes cap the node account's token on top of its roles; devstorage.read_only is the scope
# image pulls from Artifact Registry use. Workload-identity pods are not bound by them.
NODE_SCOPES = (
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
    "https://www.googleapis.com/auth/devstorage.read_only",
)

# The kubeconfig authenticates through gcloud's plugin, so it holds no long-lived credential.
_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    server: https://{endpoint}
    certificate-authority-data: {ca}
contexts:
- name: {name}
  context:
    cluster: {name}
    user: {name}
current-context: {name}
users:
- name: {name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)
      provideClusterInfo: true
"""


def render_kubeconfig(name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for the cluster at `endpoint` whose CA is `ca_certificate` (base64)."""
    return _KUBECONFIG.format(name=name, endpoint=endpoint, ca=ca_certificate)


class GkeCluster(pulumi.ComponentResource):
    """Network, node account, cluster without its default pool, its node pool, and the HTTPS
    frontend (`self.https`: its address and certificate DNS records) when the stack asks."""

    gcp_provider: gcp.Provider
    network: gcp.compute.Network
    node_service_account: gcp.serviceaccount.Account
    kms: ModelKeyKms
    cluster: gcp.container.Cluster
    node_pool: gcp.container.NodePool
    https: GkeHttpsFrontend | None
    kubeconfig: pulumi.Output[str]

    def __init__(
        self, name: str, config: GkeClusterConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("image-classifier:infra:GkeCluster", name, None, opts)
        # One explicit provider, so the project and region come from the stack file only.
        gcp_provider = gcp.Provider(
            f"{name}-gcp",
            project=config.project,
            region=config.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.gcp_provider = gcp_provider
        # Children are protected in prod: a stray `pulumi destroy` must not delete them.
        child = pulumi.ResourceOptions(parent=self, provider=gcp_provider, protect=config.protect)
        self.network = gcp.compute.Network(
            f"{name}-network", auto_create_subnetworks=False, opts=child
        )
        # Pods and Services get secondary ranges: a VPC-native cluster. Private nodes have no
        # external address; Private Google Access lets them reach Google APIs (Artifact
        # Registry, logging, monitoring) without one. They need nothing else outside, so there
        # is no Cloud NAT; add one only if pods must call the internet.
        subnetwork = gcp.compute.Subnetwork(
            f"{name}-subnet",
            network=self.network.id,
            region=config.region,
            ip_cidr_range=config.subnetCidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name="pods", ip_cidr_range=config.podsCidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name="services", ip_cidr_range=config.servicesCidr
                ),
            ],
            private_ip_google_access=True,
            opts=child,
        )
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-node-sa",
            account_id="image-classifier-nodes",
            display_name="image-classifier GKE nodes",
            description="Node identity: logs, metrics and image pulls only.",
            opts=child,
        )
        # One binding per role, so granting or dropping one never rewrites the others.
        roles = [
            gcp.projects.IAMMember(
                f"{name}-node-sa-{role.removeprefix('roles/').replace('.', '-')}",
                project=config.project,
                role=role,
                member=self.node_service_account.member,
                opts=child,
            )
            for role in NODE_ROLES
        ]
        # Envelope encryption of the cluster's Secrets, the model's data key among them.
        self.kms = ModelKeyKms(
            f"{name}-kms", config, opts=pulumi.ResourceOptions(parent=self, provider=gcp_provider)
        )
        node_identity: dict[str, Any] = {
            "service_account": self.node_service_account.email,
            "oauth_scopes": list(NODE_SCOPES),
            "shielded_instance_config": {
                "enable_secure_boot": True,
                "enable_integrity_monitoring": True,
            },
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        }
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            location=config.region,
            network=self.network.id,
            subnetwork=subnetwork.id,
            # GKE insists on a first pool; it is removed so only the sized pool below remains.
            # It still boots once, so it gets the same identity as the real pool.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=gcp.container.ClusterNodeConfigArgs(**node_identity),
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name="pods", services_secondary_range_name="services"
            ),
            # Dataplane V2 (eBPF) enforces NetworkPolicy; the chart's policies are real.
            datapath_provider="ADVANCED_DATAPATH",
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                # With a public endpoint (deploys from outside the VPC) only the authorized
                # networks below reach it; a private one is reached from the VPC alone.
                enable_private_endpoint=config.privateEndpoint,
                master_ipv4_cidr_block=config.masterCidr,
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=network.cidrBlock, display_name=network.displayName
                    )
                    for network in config.masterAuthorizedNetworks
                ],
                gcp_public_cidrs_access_enabled=False,
                # Inside the VPC too, only the authorized networks reach the control plane.
                private_endpoint_enforcement_enabled=True,
            ),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(
                state="ENCRYPTED", key_name=self.kms.crypto_key.id
            ),
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=config.releaseChannel),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{config.project}.svc.id.goog"
            ),
            # The Gateway API CRDs and GKE's controller, for the HTTPS frontend.
            gateway_api_config=gcp.container.ClusterGatewayApiConfigArgs(
                channel="CHANNEL_STANDARD"
            ),
            deletion_protection=config.protect,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=[*roles, self.kms.gke_agent],
                    # The provider reads nodeConfig back from whichever pool exists, so after
                    # the default pool is gone it would replace the cluster on every update
                    # (hashicorp/terraform-provider-google#12070).
                    ignore_changes=["nodeConfig"],
                ),
            ),
        )
        self.node_pool = gcp.container.NodePool(
            f"{name}-nodes",
            cluster=self.cluster.id,
            location=config.region,
            initial_node_count=config.minNodes,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=config.minNodes, max_node_count=config.maxNodes
            ),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=config.machineType,
                disk_size_gb=config.diskSizeGb,
                **node_identity,
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            opts=child,
        )
        self.https = (
            GkeHttpsFrontend(
                f"{name}-https",
                config.https,
                network=self.network,
                subnetwork=subnetwork,
                region=config.region,
                opts=child,
            )
            if config.https is not None
            else None
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.master_auth.cluster_ca_certificate,
            ).apply(lambda parts: render_kubeconfig(parts[0], parts[1], parts[2] or ""))
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})
