"""The GKE stacks' image registry: an Artifact Registry Docker repository in the cluster's
project and region, readable by the node service account, pushed to with the GCP provider's
own credentials."""

import pulumi
import pulumi_gcp as gcp

from infra.config import GkeClusterConfig

REPOSITORY_ID = "image-classifier"


def registry_host(config: GkeClusterConfig) -> str:
    """`<region>-docker.pkg.dev/<project>/<repository>`: where the release's image lives."""
    return f"{config.region}-docker.pkg.dev/{config.project}/{REPOSITORY_ID}"


class ArtifactRegistry(pulumi.ComponentResource):
    """The repository, its reader binding, and credentials for pushing to it (a secret)."""

    repository: gcp.artifactregistry.Repository
    reader: gcp.artifactregistry.RepositoryIamMember
    push_credentials: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        config: GkeClusterConfig,
        reader: pulumi.Input[str],
        gcp_provider: gcp.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("image-classifier:infra:ArtifactRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=gcp_provider, protect=config.protect)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            repository_id=REPOSITORY_ID,
            location=config.region,
            format="DOCKER",
            description="image-classifier images, released by digest",
            # A pushed tag never moves to other content; releases pin digests anyway.
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            opts=child,
        )
        # The nodes pull the release's image: read access to this repository only.
        self.reader = gcp.artifactregistry.RepositoryIamMember(
            f"{name}-node-reader",
            project=config.project,
            location=config.region,
            repository=self.repository.repository_id,
            role="roles/artifactregistry.reader",
            member=reader,
            opts=child,
        )
        client = gcp.organizations.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(provider=gcp_provider)
        )
        # skopeo's --dest-creds for a Google access token.
        self.push_credentials = pulumi.Output.secret(
            client.access_token.apply(lambda token: f"oauth2accesstoken:{token}")
        )
        self.register_outputs({"repository": self.repository.id})
