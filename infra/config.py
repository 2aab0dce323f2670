"""The stack's settings, read from Pulumi config once and validated into typed objects.

Every error names the key and the `environments/Pulumi.<stack>.yaml` file to edit, so a
person can fix the stack file without reading this program.
"""

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
from pulumi.runtime.config import is_config_secret
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from envconfig import PROJECT
from imagebuild.record import ImageInfo, RecordError, load_record, record_path
from modelartifact import ArtifactError
from modelartifact.encryption import data_key_id, encode_data_key
from modelartifact.keystore import KeyStore
from service.clients import parse_clients
from service.settings import SettingsError


class ConfigError(pulumi.RunError):
    """Stack config is missing or invalid; shown to the user without a traceback."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalClusterConfig(_Section):
    """The project's own cluster on this machine: control plane and one real node."""

    kind: Literal["local"]


class ExistingClusterConfig(_Section):
    """Any reachable cluster: a kubeconfig file (default $KUBECONFIG) and optional context."""

    kind: Literal["existing"]
    kubeconfig: str | None = Field(default=None, description="path to a kubeconfig file")
    context: str | None = Field(default=None, description="kubeconfig context to use")
    registry: str = Field(
        pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$",
        description="registry (host[:port][/path]) the cluster pulls from; the image is pushed "
        "there with the credentials of your environment (podman/skopeo/docker login)",
    )
    registryInsecure: bool = Field(
        default=False, description="plain HTTP or an untrusted certificate (a test registry)"
    )


def _cidr(value: str) -> str:
    """A network in CIDR notation with no host bits set, normalised (`10.0.0.0/8`)."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a network in CIDR notation ({error})") from None


Cidr = Annotated[str, AfterValidator(_cidr)]
_HOSTNAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


class AuthorizedNetwork(_Section):
    """A source range allowed to reach the cluster's control plane."""

    cidrBlock: Cidr
    displayName: str = Field(min_length=1, max_length=100, description="who uses this range")


class GkeHttpsConfig(_Section):
    """HTTPS in front of the release: a GKE Gateway with a Google-managed certificate."""

    host: str = Field(
        pattern=_HOSTNAME, max_length=253, description="DNS name clients use, e.g. api.example.com"
    )
    loadBalancer: Literal["external", "internal"] = Field(
        description="external: global Application LB; internal: regional, VPC-only"
    )
    sourceRanges: list[Cidr] = Field(
        default_factory=list, description="external only: Cloud Armor admits only these"
    )
    proxyOnlyCidr: Cidr = Field(
        default="10.40.0.0/23", description="internal only: the regional proxies' subnet"
    )

    @model_validator(mode="after")
    def _ranges_need_external(self) -> "GkeHttpsConfig":
        if self.sourceRanges and self.loadBalancer == "internal":
            raise ValueError(
                "sourceRanges applies to loadBalancer: external only (an internal load "
                "balancer is reachable from the VPC alone); remove it"
            )
        return self


class GkeClusterConfig(_Section):
    """A GKE cluster in its own VPC, with one autoscaled node pool."""

    kind: Literal["gke"]
    project: str = Field(min_length=1, description="GCP project id")
    region: str = Field(min_length=1, description="GCP region, e.g. europe-west1")
    machineType: str = Field(min_length=1, description="node machine type, e.g. e2-standard-4")
    minNodes: int = Field(ge=1, description="fewest nodes per zone")
    maxNodes: int = Field(ge=1, description="most nodes per zone")
    diskSizeGb: int = Field(default=50, ge=10)
    subnetCidr: Cidr = "10.10.0.0/20"
    podsCidr: Cidr = "10.20.0.0/16"
    servicesCidr: Cidr = "10.30.0.0/20"
    masterCidr: Cidr = Field(default="172.16.0.0/28", description="control plane's /28")
    masterAuthorizedNetworks: list[AuthorizedNetwork] = Field(
        min_length=1, description="the only sources that may reach the control plane"
    )
    privateEndpoint: bool = Field(
        default=False,
        description="control plane on its internal address only (deploy from the VPC)",
    )
    releaseChannel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    protect: bool = Field(default=False, description="refuse to delete the cluster and network")
    https: GkeHttpsConfig | None = Field(default=None, description="HTTPS Gateway in front")

    @model_validator(mode="after")
    def _pool_bounds(self) -> "GkeClusterConfig":
        if self.minNodes > self.maxNodes:
            raise ValueError(f"minNodes ({self.minNodes}) exceeds maxNodes ({self.maxNodes})")
        return self

    @model_validator(mode="after")
    def _ranges_apart(self) -> "GkeClusterConfig":
        if ipaddress.ip_network(self.masterCidr).prefixlen != 28:
            raise ValueError(f"masterCidr ({self.masterCidr}) must be a /28, as GKE requires")
        ranges = {
            "subnetCidr": self.subnetCidr,
            "podsCidr": self.podsCidr,
            "servicesCidr": self.servicesCidr,
            "masterCidr": self.masterCidr,
        }
        if self.https is not None and self.https.loadBalancer == "internal":
            ranges["https.proxyOnlyCidr"] = self.https.proxyOnlyCidr
        named = [(key, ipaddress.ip_network(value)) for key, value in ranges.items()]
        for index, (key, network) in enumerate(named):
            for other_key, other in named[index + 1 :]:
                if network.overlaps(other):
                    raise ValueError(f"{key} ({network}) overlaps {other_key} ({other})")
        return self


_CLUSTER_KINDS = ("local", "existing", "gke")
ClusterConfig = Annotated[
    LocalClusterConfig | ExistingClusterConfig | GkeClusterConfig, Field(discriminator="kind")
]


class ReleaseConfig(_Section):
    """Where and how long Helm installs the chart."""

    namespace: str = Field(default="image-classifier", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    name: str = Field(default="image-classifier", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    timeoutSeconds: int = Field(default=300, ge=30)


class CanaryConfig(_Section):
    """A canary of another model version beside the stable release, behind the same Service.

    Promote: set `promote: true` (the stable pods roll to the canary's image, the canary goes).
    Roll back: remove the section (the canary goes, the stable pods are untouched)."""

    imageRecord: str = Field(description="image record of the canary's image (make image)")
    replicas: int = Field(default=1, ge=1, description="canary pods beside the stable ones")
    promote: bool = Field(default=False, description="release the canary's image as stable")


class _StackSections(_Section):
    cluster: ClusterConfig
    release: ReleaseConfig = ReleaseConfig()
    chart: dict[str, Any] = Field(default_factory=dict)
    imageRecord: str | None = None
    canary: CanaryConfig | None = None


@dataclass(frozen=True)
class StackSettings:
    """Everything the program needs, validated; the chart section passes through as values."""

    stack: str
    stack_file: Path
    cluster: LocalClusterConfig | ExistingClusterConfig | GkeClusterConfig
    release: ReleaseConfig
    chart_values: dict[str, Any]
    image: ImageInfo
    auth_token: pulumi.Output[str] | None
    # The data key the image's model is encrypted with (base64), a secret in the stack's state.
    model_data_key: pulumi.Output[str]
    canary: CanaryConfig | None = None
    canary_image: ImageInfo | None = None


def stack_file(stack: str) -> Path:
    """The stack file a person edits for `stack`."""
    return Path("environments") / f"Pulumi.{stack}.yaml"


def load_settings() -> StackSettings:
    """Read and validate this stack's config; raise ConfigError naming key and file."""
    stack = pulumi.get_stack()
    where = stack_file(stack)
    config = pulumi.Config(PROJECT)
    raw: dict[str, Any] = {}
    for key in ("cluster", "release", "chart", "imageRecord", "canary"):
        value = config.get(key)
        if value is None:
            continue
        raw[key] = _decode(value) if key != "imageRecord" else value
    if "cluster" not in raw:
        raise ConfigError(
            f"{where}: missing '{PROJECT}:cluster'; add a section with `kind: local`, "
            "`kind: existing` or `kind: gke`"
        )
    try:
        sections = _StackSections.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_describe(error, where)) from None
    record_file = Path(sections.imageRecord) if sections.imageRecord else record_path(stack)
    backend = str((sections.chart.get("model") or {}).get("backend") or "")
    image = _image(record_file, "imageRecord", backend, stack, where)
    canary_image = None
    if sections.canary is not None:
        canary_record = Path(sections.canary.imageRecord)
        canary_image = _image(canary_record, "canary.imageRecord", backend, stack, where)
    auth_token = config.get_secret("authToken")
    auth = sections.chart.get("auth") or {}
    clients_mode = auth.get("mode") == "clients"
    needs_secret = bool(auth.get("enabled")) and not auth.get("existingSecret")
    if needs_secret and not clients_mode and auth_token is None:
        raise ConfigError(
            f"{where}: '{PROJECT}:chart' enables auth but '{PROJECT}:authToken' is not set; run "
            f"`pulumi config set --secret authToken <token> -s {stack}` "
            "(encrypted with your PULUMI_CONFIG_PASSPHRASE)"
        )
    return StackSettings(
        stack=stack,
        stack_file=where,
        cluster=sections.cluster,
        release=sections.release,
        chart_values=_with_auth_clients(
            sections.chart, config, stack, where, clients_mode, needs_secret and clients_mode
        ),
        image=image,
        auth_token=auth_token,
        model_data_key=_model_data_key(stack, image),
        canary=sections.canary,
        canary_image=canary_image,
    )


def _image(record_file: Path, key: str, backend: str, stack: str, where: Path) -> ImageInfo:
    """The record's image that serves the chart's `model.backend`, or an error naming the key
    that points at the record or the backend it cannot serve."""
    try:
        record = load_record(record_file)
    except RecordError as error:
        raise ConfigError(
            f"{error}; build it with `make image ENV={stack}` "
            f"or point '{PROJECT}:{key}' in {where} at a record"
        ) from None
    try:
        return record.serving(backend)
    except ValueError as error:
        raise ConfigError(f"{where}: '{PROJECT}:chart' model.backend: {error}") from None


def _model_data_key(stack: str, image: ImageInfo) -> pulumi.Output[str]:
    """The stack's data key from the build host's key directory, the one the image was built
    with (its id is in the record): the build -> release flow of the key, one way."""
    store = KeyStore.of(stack)
    try:
        key = store.data_key()
    except ArtifactError as error:
        raise ConfigError(
            f"{error} (the image was built with data key {image.model_keys.data_key_id})"
        ) from None
    if data_key_id(key) != image.model_keys.data_key_id:
        raise ConfigError(
            f"{store.directory}/data.key is data key {data_key_id(key)}, but the image "
            f"{image.reference} was encrypted with data key {image.model_keys.data_key_id}: "
            f"rebuild it with `make image ENV={stack}`, or restore the key it was built with"
        )
    return pulumi.Output.secret(encode_data_key(key))


def _with_auth_clients(
    chart: dict[str, Any],
    config: pulumi.Config,
    stack: str,
    where: Path,
    clients_mode: bool,
    needed: bool,
) -> dict[str, Any]:
    """The chart section with the stack's named clients (secret config `authClients`, as
    `python -m service.clients export` prints them) as auth.clients, a secret."""
    key = f"{PROJECT}:authClients"
    fix = (
        'run `pulumi config set --secret authClients "$(python -m service.clients export '
        f'--file clients.yaml)" -s {stack}`'
    )
    value = config.get("authClients")
    if value is None:
        if needed:
            raise ConfigError(
                f"{where}: '{PROJECT}:chart' sets auth.mode: clients but '{key}' is not set; {fix}"
            )
        return chart
    if not clients_mode:
        raise ConfigError(
            f"{where}: '{key}' is set but '{PROJECT}:chart' does not set auth.mode: clients; "
            f"set it there, or `pulumi config rm authClients -s {stack}`"
        )
    if not is_config_secret(key):
        raise ConfigError(f"{where}: '{key}' is in clear text in the stack's config; {fix}")
    try:
        clients = parse_clients({"clients": _decode(value)}, f"{where}: '{key}'")
    except SettingsError as error:
        raise ConfigError(str(error)) from None
    auth = {**(chart.get("auth") or {}), "clients": pulumi.Output.secret(clients.entries())}
    return {**chart, "auth": auth}


def _decode(value: str) -> Any:
    """Structured config arrives as JSON text; plain strings stay strings."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _describe(error: ValidationError, where: Path) -> str:
    """One line per problem: the full key, what was wrong, and the file to edit."""
    lines = [f"{where}: invalid stack config:"]
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        # pydantic puts the matched cluster kind into the path; the stack file has no such key.
        if location[:1] == ["cluster"] and location[1:2] and location[1] in _CLUSTER_KINDS:
            del location[1]
        key = f"{PROJECT}:" + ".".join(location)
        lines.append(f"  {key}: {problem['msg']}")
    return "\n".join(lines)
