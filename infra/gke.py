"""A GKE cluster in its own VPC with one autoscaled node pool, and a kubeconfig for it."""

import pulumi
import pulumi_gcp as gcp

from infra.config import GkeClusterConfig

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
    """Network, subnetwork, cluster without its default pool, and the project's node pool."""

    network: gcp.compute.Network
    cluster: gcp.container.Cluster
    node_pool: gcp.container.NodePool
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
        # Children are protected in prod: a stray `pulumi destroy` must not delete them.
        child = pulumi.ResourceOptions(parent=self, provider=gcp_provider, protect=config.protect)
        self.network = gcp.compute.Network(
            f"{name}-network", auto_create_subnetworks=False, opts=child
        )
        # Pods and Services get secondary ranges: a VPC-native cluster.
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
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            location=config.region,
            network=self.network.id,
            subnetwork=subnetwork.id,
            # GKE insists on a first pool; it is removed so only the sized pool below remains.
            remove_default_node_pool=True,
            initial_node_count=1,
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name="pods", services_secondary_range_name="services"
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=config.releaseChannel),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{config.project}.svc.id.goog"
            ),
            deletion_protection=config.protect,
            opts=child,
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
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            opts=child,
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.master_auth.cluster_ca_certificate,
            ).apply(lambda parts: render_kubeconfig(parts[0], parts[1], parts[2] or ""))
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})
