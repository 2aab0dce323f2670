"""The Pulumi program for every stack under mocks: what it registers, how it refuses bad config."""

from pathlib import Path
from typing import Any

import pytest

from envconfig import PROJECT, known_environments
from infra.config import ConfigError
from modelartifact.encryption import encode_data_key
from modelartifact.keystore import DATA_KEY_FILE, KEYS_DIR_VARIABLE
from tests.chart.helm import manifests, one, template, write_values
from tests.fixtures.image_record import (
    ARCHIVE_DIGEST,
    DATA_KEY,
    MODEL_KEYS,
    write_image_record,
    write_keys,
)
from tests.pulumi.harness import (
    FAKE_PROJECT_NUMBER,
    SECRET_SIG,
    SIG_KEY,
    Recording,
    resolve,
    run_program,
    stack_config,
)

pytestmark = pytest.mark.pulumi

RELEASE = "kubernetes:helm.sh/v3:Release"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
DYNAMIC = "pulumi-python:dynamic:Resource"
SECRETS = {"prod": {"authToken": "prod-token"}}
GKE_STACKS = [
    s for s in known_environments() if stack_config(s)[f"{PROJECT}:cluster"]["kind"] == "gke"
]
ACCOUNT = "gcp:serviceaccount/account:Account"
IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
CERTIFICATE = "gcp:certificatemanager/certificate:Certificate"
CERTIFICATE_MAP = "gcp:certificatemanager/certificateMap:CertificateMap"
SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
SECRET_CIPHERTEXT = "gcp:kms/secretCiphertext:SecretCiphertext"


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `existing` kind reads $KUBECONFIG when the stack file names no file."""
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def deploy(stack: str, directory: Path, **overrides: Any) -> Recording:
    config = stack_config(stack)
    config[f"{PROJECT}:imageRecord"] = str(write_image_record(directory))
    config.update({f"{PROJECT}:{key}": value for key, value in overrides.items()})
    return run_program(stack, config, SECRETS.get(stack))


def contains(actual: Any, expected: Any) -> bool:
    """Whether every key/value of `expected` is in `actual` (numbers compared as numbers)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


@pytest.fixture(params=known_environments())
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_environment_is_a_stack_with_a_cluster_kind(stack: str) -> None:
    assert stack_config(stack)[f"{PROJECT}:cluster"]["kind"] in ("local", "existing", "gke")


def test_cluster_kind_decides_the_resources(stack: str, tmp_path: Path, kubeconfig: Path) -> None:
    recording = deploy(stack, tmp_path)
    kind = stack_config(stack)[f"{PROJECT}:cluster"]["kind"]
    assert resolve(recording.program["cluster"].kubeconfig)[1], "kubeconfig must be a secret"
    # The image push everywhere, plus the local cluster itself on `local`.
    dynamic = sorted(r.name for r in recording.of_type(DYNAMIC))
    assert dynamic == (["cluster-control-plane", "image"] if kind == "local" else ["image"])
    assert len(recording.of_type(GKE_CLUSTER)) == (1 if kind == "gke" else 0)
    if kind == "existing":
        assert resolve(recording.program["cluster"].kubeconfig)[0] == kubeconfig.read_text()


def test_every_kubernetes_resource_uses_the_cluster_provider(
    stack: str, tmp_path: Path, kubeconfig: Path
) -> None:
    recording = deploy(stack, tmp_path)
    kubernetes = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in kubernetes} >= {"kubernetes:core/v1:Namespace", RELEASE}
    for resource in kubernetes:
        assert "::cluster-k8s::" in resource.provider, f"{resource.name} uses the default provider"


def test_stack_chart_section_reaches_the_release_values(
    stack: str, tmp_path: Path, kubeconfig: Path
) -> None:
    release = deploy(stack, tmp_path).one(RELEASE)
    chart = stack_config(stack).get(f"{PROJECT}:chart", {})
    values = release.inputs["values"]
    for key in ("replicaCount", "resources", "autoscaling", "podDisruptionBudget", "service"):
        if key in chart:
            assert contains(values[key], chart[key]), key


def test_image_is_pushed_to_the_clusters_registry_and_pinned_by_its_digest(
    stack: str, tmp_path: Path, kubeconfig: Path
) -> None:
    recording = deploy(stack, tmp_path)
    values = recording.one(RELEASE).inputs["values"]
    push = next(r for r in recording.of_type(DYNAMIC) if r.name == "image")
    registry = push.inputs["registry"]
    expected = {
        "local": "127.0.0.1:5000",
        "dev": stack_config("dev")[f"{PROJECT}:cluster"]["registry"],
    }
    cluster = stack_config(stack)[f"{PROJECT}:cluster"]
    if cluster["kind"] == "gke":
        expected[stack] = (
            f"{cluster['region']}-docker.pkg.dev/{cluster['project']}/image-classifier"
        )
    assert registry == expected[stack]
    # The archive's digest, which the push checks the registry reports.
    assert values["image"]["digest"] == push.inputs["built"]["archive_digest"] == ARCHIVE_DIGEST
    assert values["image"]["repository"] == f"{registry}/image-classifier"
    # No stack asks for a backend: each releases the fastest accurate image, the slim one.
    assert values["image"]["tag"] == "test-3-abc1234-slim"
    assert values["model"]["version"] == 3
    assert "localhost/" not in str(values)


@pytest.mark.parametrize(
    ("backend", "int8_accuracy", "tag"),
    [
        (None, 0.97, "test-3-abc1234-slim"),  # 0.2 point below float32: as accurate
        (None, 0.96, "test-3-abc1234"),  # 1.2 points below: the TensorFlow image
        ("tensorflow", 0.97, "test-3-abc1234"),
        ("tensorflow-bf16", 0.97, "test-3-abc1234"),
        ("litert", 0.96, "test-3-abc1234-slim"),  # asked for by name: whatever its accuracy
    ],
)
def test_the_release_runs_the_image_of_the_charts_backend(
    backend: str | None, int8_accuracy: float, tag: str, tmp_path: Path
) -> None:
    config = stack_config("local")
    record = write_image_record(tmp_path, int8_accuracy=int8_accuracy)
    config[f"{PROJECT}:imageRecord"] = str(record)
    if backend is not None:
        config[f"{PROJECT}:chart"] = {**config[f"{PROJECT}:chart"], "model": {"backend": backend}}
    values = run_program("local", config, None).one(RELEASE).inputs["values"]
    assert values["image"]["tag"] == tag
    assert values["model"].get("backend", "") == (backend or "")


def test_release_waits_for_ready_workloads(stack: str, tmp_path: Path, kubeconfig: Path) -> None:
    release = deploy(stack, tmp_path).one(RELEASE)
    assert release.inputs["skipAwait"] is False
    assert release.inputs["timeout"] >= 30
    assert release.inputs["chart"].endswith("/chart")


def test_stacks_differ_where_environments_should(tmp_path: Path, kubeconfig: Path) -> None:
    values = {s: deploy(s, tmp_path).one(RELEASE).inputs["values"] for s in known_environments()}
    assert values["local"]["replicaCount"] == 2
    assert values["prod"]["autoscaling"]["enabled"] is True
    assert values["prod"]["gateway"]["enabled"] is True
    assert values["prod"].get("service", {}).get("type", "ClusterIP") == "ClusterIP"
    assert values["prod"]["auth"]["enabled"] is True
    assert (values["local"]["service"]["type"], values["local"]["service"]["nodePort"]) == (
        "NodePort", 8080,
    )  # fmt: skip


def test_prod_auth_token_is_sent_as_a_secret(tmp_path: Path) -> None:
    release = deploy("prod", tmp_path).one(RELEASE)
    token = release.wire["values"]["auth"]["token"]
    assert token == {SIG_KEY: SECRET_SIG, "value": "prod-token"}


@pytest.mark.parametrize("stack", ["local", "prod"])
def test_the_model_keys_reach_the_release_and_the_data_key_as_a_secret(
    stack: str, tmp_path: Path, kubeconfig: Path
) -> None:
    recording = deploy(stack, tmp_path)
    keys = recording.one(RELEASE).wire["values"]["modelKeys"]
    assert keys["publicKey"] == MODEL_KEYS.public_key
    assert keys["dataKey"] == {SIG_KEY: SECRET_SIG, "value": encode_data_key(DATA_KEY)}


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_gke_wraps_the_secrets_and_the_data_key_with_the_stacks_kms_key(
    stack: str, tmp_path: Path
) -> None:
    recording = deploy(stack, tmp_path)
    key = recording.one(CRYPTO_KEY)
    assert key.inputs["purpose"] == "ENCRYPT_DECRYPT" and key.inputs["rotationPeriod"]
    encryption = recording.one(GKE_CLUSTER).inputs["databaseEncryption"]
    assert encryption["state"] == "ENCRYPTED" and encryption["keyName"]
    agent = recording.one(KEY_MEMBER).inputs
    assert agent["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert agent["member"] == (
        f"serviceAccount:service-{FAKE_PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com"
    )
    wrapped = recording.one(SECRET_CIPHERTEXT).wire["plaintext"]
    assert wrapped == {SIG_KEY: SECRET_SIG, "value": encode_data_key(DATA_KEY)}


def test_a_data_key_other_than_the_images_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (write_keys(tmp_path / "keys", "local") / DATA_KEY_FILE).write_text(encode_data_key(bytes(32)))
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(tmp_path / "keys"))
    with pytest.raises(ConfigError, match=r"was encrypted with data key [0-9a-f]{16}: rebuild"):
        deploy("local", tmp_path)


def test_prod_cluster_is_protected_and_staging_is_not(tmp_path: Path) -> None:
    prod = deploy("prod", tmp_path)
    staging = deploy("staging", tmp_path)
    for resource in prod.of_type(GKE_CLUSTER) + prod.of_type(NODE_POOL):
        assert resource.protect
    assert prod.one(GKE_CLUSTER).inputs["deletionProtection"] is True
    assert not any(r.protect for r in staging.resources)


def test_gke_node_pool_is_sized_from_the_stack_file(tmp_path: Path) -> None:
    cluster = stack_config("prod")[f"{PROJECT}:cluster"]
    recording = deploy("prod", tmp_path)
    pool = recording.one(NODE_POOL).inputs
    assert pool["nodeConfig"]["machineType"] == cluster["machineType"]
    assert pool["autoscaling"] == {
        "minNodeCount": cluster["minNodes"],
        "maxNodeCount": cluster["maxNodes"],
    }
    assert recording.one(GKE_CLUSTER).inputs["removeDefaultNodePool"] is True
    kubeconfig, secret = resolve(recording.program["cluster"].kubeconfig)
    assert secret and "server: https://203.0.113.10" in kubeconfig


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_gateway_endpoint_is_exported(stack: str, tmp_path: Path) -> None:
    endpoint, _ = resolve(deploy(stack, tmp_path).program["release"].endpoint)
    assert endpoint == f"https://{stack_config(stack)[f'{PROJECT}:cluster']['https']['host']}"


def test_load_balancer_endpoint_is_exported(tmp_path: Path, kubeconfig: Path) -> None:
    chart = {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}}
    endpoint, _ = resolve(deploy("dev", tmp_path, chart=chart).program["release"].endpoint)
    assert endpoint == "http://203.0.113.20:80"


@pytest.mark.parametrize(
    ("stack", "change", "secrets", "expected"),
    [
        ("local", {"cluster": None}, None, "missing 'image-classifier:cluster'"),
        ("local", {"cluster": {"kind": "cloud"}}, None, "image-classifier:cluster: Input tag"),
        ("staging", {"cluster": {"kind": "gke"}}, None, "image-classifier:cluster.project: Field"),
        ("local", {"cluster": {"kind": "local", "nodez": 2}}, None, "cluster.nodez: Extra"),
        ("dev", {"release": {"timeoutSeconds": 5}}, None, "release.timeoutSeconds: Input should"),
        ("prod", {}, {}, "'image-classifier:authToken' is not set"),
        ("local", {"imageRecord": "/nonexistent/local.json"}, None, "make image ENV=local"),
        (
            "local",
            {"chart": {"model": {"backend": "onnx"}}},
            None,
            "'image-classifier:chart' model.backend: unknown model backend 'onnx'; one of",
        ),
    ],
    ids=[
        "no-cluster",
        "bad-kind",
        "gke-no-project",
        "typo",
        "timeout",
        "no-token",
        "no-image",
        "bad-backend",
    ],
)
def test_bad_config_names_the_key_and_the_stack_file(
    stack: str,
    change: dict[str, Any],
    secrets: dict[str, str] | None,
    expected: str,
    tmp_path: Path,
) -> None:
    config = stack_config(stack)
    config[f"{PROJECT}:imageRecord"] = str(write_image_record(tmp_path))
    for key, value in change.items():
        if value is None:
            config.pop(f"{PROJECT}:{key}")
        else:
            config[f"{PROJECT}:{key}"] = value
    with pytest.raises(ConfigError) as raised:
        run_program(stack, config, SECRETS.get(stack) if secrets is None else secrets)
    assert expected in str(raised.value)
    if "imageRecord" not in change:
        assert f"environments/Pulumi.{stack}.yaml" in str(raised.value)


def gke(stack: str) -> dict[str, Any]:
    """The stack file's GKE cluster section."""
    return dict(stack_config(stack)[f"{PROJECT}:cluster"])


def test_gke_stacks_exist() -> None:
    assert set(GKE_STACKS) == {"staging", "prod"}


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_gke_cluster_is_hardened(stack: str, tmp_path: Path) -> None:
    cluster = deploy(stack, tmp_path).one(GKE_CLUSTER).inputs
    config = gke(stack)
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"  # NetworkPolicy enforced
    assert cluster["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": config.get("privateEndpoint", False),
        "masterIpv4CidrBlock": "172.16.0.0/28",
    }
    assert cluster["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": config["masterAuthorizedNetworks"],
        "gcpPublicCidrsAccessEnabled": False,
        "privateEndpointEnforcementEnabled": True,
    }
    assert cluster["enableShieldedNodes"] is True
    assert cluster["enableLegacyAbac"] is False
    assert cluster["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert cluster["workloadIdentityConfig"]["workloadPool"] == f"{config['project']}.svc.id.goog"
    assert cluster["gatewayApiConfig"]["channel"] == "CHANNEL_STANDARD"


def test_staging_control_plane_is_private_and_prod_public_endpoint_is_restricted() -> None:
    assert gke("staging")["privateEndpoint"] is True
    assert "privateEndpoint" not in gke("prod")
    assert [n["cidrBlock"] for n in gke("prod")["masterAuthorizedNetworks"]] == ["198.51.100.0/28"]


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_gke_nodes_use_a_least_privilege_account(stack: str, tmp_path: Path) -> None:
    recording = deploy(stack, tmp_path)
    account = recording.one(ACCOUNT)
    email = f"{account.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    bindings = recording.of_type(IAM_MEMBER)
    assert sorted(b.inputs["role"] for b in bindings) == [
        "roles/artifactregistry.reader",
        "roles/logging.logWriter",
        "roles/monitoring.metricWriter",
        "roles/monitoring.viewer",
        "roles/stackdriver.resourceMetadata.writer",
    ]
    for binding in bindings:
        assert binding.inputs["member"] == f"serviceAccount:{email}"
        assert binding.inputs["project"] == gke(stack)["project"]
    # The removed default pool boots once too: it gets the same identity as the real one.
    pool = recording.one(NODE_POOL).inputs["nodeConfig"]
    default_pool = recording.one(GKE_CLUSTER).inputs["nodeConfig"]
    for node_config in (pool, default_pool):
        assert node_config["serviceAccount"] == email
        assert node_config["shieldedInstanceConfig"] == {
            "enableSecureBoot": True,
            "enableIntegrityMonitoring": True,
        }
        assert node_config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        scopes = node_config["oauthScopes"]
        assert "https://www.googleapis.com/auth/cloud-platform" not in scopes
        assert "https://www.googleapis.com/auth/devstorage.read_only" in scopes


@pytest.mark.parametrize("stack", GKE_STACKS)
def test_private_nodes_reach_google_apis_without_nat(stack: str, tmp_path: Path) -> None:
    recording = deploy(stack, tmp_path)
    [nodes_subnet] = [s for s in recording.of_type(SUBNETWORK) if "purpose" not in s.inputs]
    assert nodes_subnet.inputs["privateIpGoogleAccess"] is True
    assert recording.of_type("gcp:compute/routerNat:RouterNat") == []


def test_prod_https_is_a_global_external_gateway_admitting_only_its_ranges(
    tmp_path: Path,
) -> None:
    recording = deploy("prod", tmp_path)
    https = gke("prod")["https"]
    gateway = recording.one(RELEASE).inputs["values"]["gateway"]
    assert not gateway.get("certificates")
    assert contains(
        gateway,
        {
            "enabled": True,
            "className": "gke-l7-global-external-managed",
            "host": https["host"],
            "addressName": recording.one("gcp:compute/globalAddress:GlobalAddress").inputs["name"],
            "certificateMap": recording.one(CERTIFICATE_MAP).inputs["name"],
            "sslPolicy": recording.one("gcp:compute/sSLPolicy:SSLPolicy").inputs["name"],
            "securityPolicy": recording.one(SECURITY_POLICY).inputs["name"],
        },
    )
    assert recording.one(CERTIFICATE).inputs["managed"]["domains"] == [https["host"]]
    entry = recording.one("gcp:certificatemanager/certificateMapEntry:CertificateMapEntry")
    assert entry.inputs["hostname"] == https["host"]
    ssl = recording.one("gcp:compute/sSLPolicy:SSLPolicy").inputs
    assert (ssl["minTlsVersion"], ssl["profile"]) == ("TLS_1_2", "MODERN")
    rules = sorted(recording.one(SECURITY_POLICY).inputs["rules"], key=lambda r: r["priority"])
    assert [(r["action"], r["match"]["config"]["srcIpRanges"]) for r in rules] == [
        ("allow", https["sourceRanges"]),
        ("deny(403)", ["*"]),
    ]
    assert recording.of_type("gcp:compute/address:Address") == []


def test_staging_https_is_an_internal_gateway_with_a_regional_certificate(
    tmp_path: Path,
) -> None:
    recording = deploy("staging", tmp_path)
    https = gke("staging")["https"]
    gateway = recording.one(RELEASE).inputs["values"]["gateway"]
    certificate = recording.one(CERTIFICATE).inputs
    address = recording.one("gcp:compute/address:Address").inputs
    assert not gateway.get("certificateMap") and not gateway.get("securityPolicy")
    assert contains(
        gateway,
        {
            "enabled": True,
            "className": "gke-l7-rilb",
            "host": https["host"],
            "addressName": address["name"],
            "certificates": [certificate["name"]],
            "sslPolicy": recording.one("gcp:compute/regionSslPolicy:RegionSslPolicy").inputs[
                "name"
            ],
        },
    )
    assert (address["addressType"], address["purpose"]) == ("INTERNAL", "SHARED_LOADBALANCER_VIP")
    assert certificate["location"] == gke("staging")["region"]
    [proxy_subnet] = [s for s in recording.of_type(SUBNETWORK) if "purpose" in s.inputs]
    assert (proxy_subnet.inputs["purpose"], proxy_subnet.inputs["role"]) == (
        "REGIONAL_MANAGED_PROXY",
        "ACTIVE",
    )
    assert recording.of_type(SECURITY_POLICY) == []
    assert recording.of_type(CERTIFICATE_MAP) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"masterAuthorizedNetworks": [{"cidrBlock": "10.0.0.1/8", "displayName": "x"}]},
            "cluster.masterAuthorizedNetworks.0.cidrBlock: Value error, '10.0.0.1/8' is not a "
            "network in CIDR notation",
        ),
        ({"masterAuthorizedNetworks": []}, "cluster.masterAuthorizedNetworks: List should have"),
        (
            {"masterCidr": "10.10.0.0/28"},
            "subnetCidr (10.10.0.0/20) overlaps masterCidr (10.10.0.0/28)",
        ),
        ({"masterCidr": "172.16.0.0/24"}, "masterCidr (172.16.0.0/24) must be a /28"),
        (
            {
                "https": {
                    "host": "a.example.com",
                    "loadBalancer": "internal",
                    "sourceRanges": ["10.0.0.0/8"],
                }
            },
            "sourceRanges applies to loadBalancer: external only",
        ),
        (
            {
                "https": {
                    "host": "a.example.com",
                    "loadBalancer": "external",
                    "sourceRanges": ["any"],
                }
            },
            "cluster.https.sourceRanges.0: Value error, 'any' is not a network",
        ),
        ({"https": {"host": "Not A Host", "loadBalancer": "external"}}, "cluster.https.host"),
    ],
    ids=["host-bits", "no-networks", "overlap", "not-28", "internal-ranges", "bad-range", "host"],
)
def test_bad_gke_config_names_the_key_and_the_stack_file(
    change: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        deploy("staging", tmp_path, cluster={**gke("staging"), **change})
    assert expected in str(raised.value)
    assert "environments/Pulumi.staging.yaml" in str(raised.value)


@pytest.mark.parametrize(
    ("release", "chart", "expected"),
    [
        ({}, {}, "http://image-classifier.image-classifier.svc.cluster.local:80"),
        (
            {"name": "digits", "namespace": "ml"},
            {"fullnameOverride": "digits-api", "service": {"port": 8081}},
            "http://digits-api.ml.svc.cluster.local:8081",
        ),
    ],
    ids=["defaults", "renamed"],
)
def test_cluster_endpoint_is_the_service_helm_created(
    release: dict[str, Any], chart: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    # The name comes from what the release reports, the port from the released values.
    chart = {**stack_config("local")[f"{PROJECT}:chart"], **chart}
    recording = deploy("local", tmp_path, release=release, chart=chart)
    assert resolve(recording.program["release"].endpoint)[0] == expected


@pytest.mark.parametrize("stack", known_environments())
def test_stack_file_value_reaches_the_rendered_deployment(
    stack: str, tmp_path: Path, kubeconfig: Path
) -> None:
    # The README's configuration flow: environments/Pulumi.<env>.yaml's chart section -> the
    # program's release values -> what the real helm renders; replicaCount only without an HPA.
    chart = dict(stack_config(stack).get(f"{PROJECT}:chart", {}))
    limits = {**chart.get("resources", {}).get("limits", {}), "memory": "3333Mi"}
    chart["resources"] = {**chart.get("resources", {}), "limits": limits}
    chart["replicaCount"] = 5
    values = deploy(stack, tmp_path, chart=chart).one(RELEASE).inputs["values"]
    docs = manifests(template([write_values(values, tmp_path)]))
    deployment = one(docs, "Deployment")["spec"]
    assert deployment["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == (
        "3333Mi"
    )
    autoscaling = values["autoscaling"]
    if autoscaling["enabled"]:
        assert "replicas" not in deployment
        hpa = one(docs, "HorizontalPodAutoscaler")["spec"]
        assert [hpa["minReplicas"], hpa["maxReplicas"]] == [
            autoscaling["minReplicas"],
            autoscaling["maxReplicas"],
        ]
    else:
        assert deployment["replicas"] == 5
