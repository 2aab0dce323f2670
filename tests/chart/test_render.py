"""What `helm template` renders: each environment's shape and the chart's guarantees."""

import base64
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from service.settings import Backend, Settings
from tests.chart.helm import (
    AUTH_TOKEN,
    MODEL_DATA_KEY,
    RELEASE,
    RELEASED_IMAGE,
    Docs,
    HelmError,
    by_kind,
    manifests,
    one,
    template,
)

pytestmark = pytest.mark.chart

FULLNAME = "image-classifier"
SMOKE_TEST = f"{FULLNAME}-smoke-test"
SERVICE_SETTINGS = {
    "PORT", "MODEL_BASE_PATH", "MODEL_NAME", "MODEL_VERSION", "MODEL_BACKEND", "BATCH_MAX_SIZE",
    "BATCH_TIMEOUT_MS", "BATCH_QUEUE_CAPACITY", "MAX_REQUEST_BYTES", "AUTH_TOKEN_FILE",
    "LOG_LEVEL", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GRACEFUL_TIMEOUT_SECONDS",
    "MAX_JSON_BYTES", "MAX_IMAGE_PIXELS", "MAX_REQUEST_PIXELS", "REQUEST_DEADLINE_MS",
    "HEADER_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "MODEL_REQUIRE_SIGNATURE",
}  # fmt: skip
MODEL_KEYS_DIR = "/var/run/secrets/image-classifier/model"


@dataclass(frozen=True)
class Shape:
    """What an environment must look like once released."""

    replicas: int | None  # None: the HPA owns the replica count
    hpa: tuple[int, int] | None  # (minReplicas, maxReplicas)
    pdb_min_available: int | None
    service_type: str
    auth_secret: str | None  # the Secret the token is mounted from


SHAPES = {
    # Two pods behind a loopback NodePort (http://127.0.0.1:8080), a PDB keeping one.
    "local": Shape(2, None, 1, "NodePort", None),
    "dev": Shape(2, None, 1, "ClusterIP", None),
    # Reached through the HTTPS Gateway only (tests/chart/test_gateway.py).
    "staging": Shape(None, (3, 6), 1, "ClusterIP", "image-classifier-auth"),
    "prod": Shape(None, (3, 12), 2, "ClusterIP", f"{FULLNAME}-auth"),
}


def _deployment(docs: Docs) -> dict[str, Any]:
    return one(docs, "Deployment")


def _server(docs: Docs) -> dict[str, Any]:
    return _deployment(docs)["spec"]["template"]["spec"]["containers"][0]


def _settings(docs: Docs) -> dict[str, str]:
    return one(docs, "ConfigMap", FULLNAME)["data"]


def _render(*arguments: str) -> Docs:
    return manifests(template((), *arguments))


@pytest.mark.parametrize("environment", sorted(SHAPES))
def test_environment_has_its_shape(
    environment: str, rendered_environments: dict[str, Docs]
) -> None:
    shape, docs = SHAPES[environment], rendered_environments[environment]
    assert _deployment(docs)["spec"].get("replicas") == shape.replicas
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    if shape.hpa is None:
        assert hpas == []
    else:
        spec = one(hpas, "HorizontalPodAutoscaler")["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == shape.hpa
        assert spec["scaleTargetRef"]["name"] == FULLNAME
    pdbs = by_kind(docs, "PodDisruptionBudget")
    assert [pdb["spec"]["minAvailable"] for pdb in pdbs] == (
        [] if shape.pdb_min_available is None else [shape.pdb_min_available]
    )
    service = one(docs, "Service")["spec"]
    assert service["type"] == shape.service_type
    assert bool(service.get("loadBalancerSourceRanges")) == (shape.service_type == "LoadBalancer")
    volumes = _deployment(docs)["spec"]["template"]["spec"]["volumes"]
    secrets = [volume["secret"]["secretName"] for volume in volumes if "secret" in volume]
    assert secrets == ([] if shape.auth_secret is None else [shape.auth_secret])


def test_environments_differ_in_resources(rendered_environments: dict[str, Docs]) -> None:
    memory = {
        name: _server(docs)["resources"]["limits"]["memory"]
        for name, docs in rendered_environments.items()
    }
    assert memory == {"local": "1Gi", "dev": "1Gi", "staging": "3Gi", "prod": "3Gi"}


def test_prod_token_from_pulumi_becomes_the_mounted_secret(
    rendered_environments: dict[str, Docs],
) -> None:
    docs = rendered_environments["prod"]
    secret = one(docs, "Secret", f"{FULLNAME}-auth")
    assert base64.b64decode(secret["data"]["token"]).decode() == AUTH_TOKEN
    mounts = {m["name"]: m["mountPath"] for m in _server(docs)["volumeMounts"]}
    assert _settings(docs)["AUTH_TOKEN_FILE"] == f"{mounts['auth-token']}/token"


def test_existing_secret_is_mounted_and_no_secret_is_created() -> None:
    docs = _render("--set", "auth.enabled=true,auth.existingSecret=mine,auth.secretKey=key")
    assert by_kind(docs, "Secret") == []
    volumes = _deployment(docs)["spec"]["template"]["spec"]["volumes"]
    assert [v["secret"]["secretName"] for v in volumes if "secret" in v] == ["mine"]
    assert _settings(docs)["AUTH_TOKEN_FILE"].endswith("/key")


def test_auth_off_means_no_token_setting(default_manifests: Docs) -> None:
    assert "AUTH_TOKEN_FILE" not in _settings(default_manifests)
    assert by_kind(default_manifests, "Secret") == []


def test_settings_are_exactly_the_service_contract() -> None:
    model = "model.version=7,model.backend=litert"
    docs = _render("--set", f"{model},auth.enabled=true,auth.token=t,batching.maxSize=4")
    settings = _settings(docs)
    assert set(settings) == SERVICE_SETTINGS
    # Every key is one the service reads (service/settings.py is the contract).
    assert {name.upper() for name in Settings.model_fields} >= SERVICE_SETTINGS
    assert settings["PORT"] == "8080"
    assert (settings["MODEL_VERSION"], settings["MODEL_BACKEND"]) == ("7", "litert")
    assert settings["BATCH_MAX_SIZE"] == "4"
    assert settings["MAX_REQUEST_BYTES"] == "10485760"
    assert _server(docs)["envFrom"] == [{"configMapRef": {"name": FULLNAME}}]


def _model_keys_volume(docs: Docs) -> dict[str, Any]:
    pod = _deployment(docs)["spec"]["template"]["spec"]
    [mount] = [m for m in _server(docs)["volumeMounts"] if m["name"] == "model-keys"]
    assert (mount["mountPath"], mount["readOnly"]) == (MODEL_KEYS_DIR, True)
    [volume] = [v for v in pod["volumes"] if v["name"] == "model-keys"]
    return dict(volume["projected"])


def test_a_release_mounts_the_model_keys_read_only(rendered_environments: dict[str, Docs]) -> None:
    docs = rendered_environments["local"]
    settings = _settings(docs)
    assert settings["MODEL_PUBLIC_KEY_FILE"] == f"{MODEL_KEYS_DIR}/public-key.pem"
    assert settings["MODEL_KEY_FILE"] == f"{MODEL_KEYS_DIR}/data.key"
    assert settings["MODEL_REQUIRE_SIGNATURE"] == "true"
    assert {"MODEL_PUBLIC_KEY_FILE", "MODEL_KEY_FILE"} <= {n.upper() for n in Settings.model_fields}
    name = f"{FULLNAME}-model-keys"
    public = one(docs, "ConfigMap", name)["data"]["public-key.pem"]
    assert public == RELEASED_IMAGE.model_keys.public_key
    secret = one(docs, "Secret", name)["data"]["data-key"]
    assert base64.b64decode(secret).decode() == MODEL_DATA_KEY
    projected = _model_keys_volume(docs)
    assert projected["defaultMode"] == 0o440
    assert [list(source) for source in projected["sources"]] == [["configMap"], ["secret"]]
    annotations = _deployment(docs)["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/model-keys" in annotations


def test_an_existing_secret_holds_the_data_key() -> None:
    docs = _render("--set", "modelKeys.existingSecret=kms-unwrapped,modelKeys.secretKey=key")
    assert [s for s in by_kind(docs, "Secret") if "model-keys" in s["metadata"]["name"]] == []
    [source] = _model_keys_volume(docs)["sources"]
    assert source["secret"]["name"] == "kms-unwrapped"
    assert source["secret"]["items"] == [{"key": "key", "path": "data.key"}]
    assert _settings(docs)["MODEL_KEY_FILE"] == f"{MODEL_KEYS_DIR}/data.key"


def test_without_keys_nothing_is_mounted_and_a_signature_is_still_required(
    default_manifests: Docs,
) -> None:
    settings = _settings(default_manifests)
    assert settings["MODEL_REQUIRE_SIGNATURE"] == "true"
    assert "MODEL_PUBLIC_KEY_FILE" not in settings and "MODEL_KEY_FILE" not in settings
    volumes = _deployment(default_manifests)["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in volumes if v["name"] == "model-keys"] == []


def test_unset_model_version_and_backend_are_left_to_the_image(default_manifests: Docs) -> None:
    settings = _settings(default_manifests)
    assert "MODEL_VERSION" not in settings and "MODEL_BACKEND" not in settings


@pytest.mark.parametrize("environment", sorted(SHAPES))
def test_every_environment_keeps_the_image_s_own_backend(
    environment: str, rendered_environments: dict[str, Docs]
) -> None:
    # Each image sets its fastest accurate one: tensorflow-bf16 (TF), openvino (slim, no TF).
    assert "MODEL_BACKEND" not in _settings(rendered_environments[environment])


@pytest.mark.parametrize("backend", [backend.value for backend in Backend])
def test_every_service_backend_can_be_chosen(backend: str) -> None:
    assert _settings(_render("--set", f"model.backend={backend}"))["MODEL_BACKEND"] == backend


def test_digest_wins_over_tag(rendered_environments: dict[str, Docs]) -> None:
    image = _server(rendered_environments["prod"])["image"]
    assert image == f"{RELEASED_IMAGE.repository}@{RELEASED_IMAGE.digest}"


def test_tag_defaults_to_app_version(default_manifests: Docs) -> None:
    app_version = _deployment(default_manifests)["metadata"]["labels"]["app.kubernetes.io/version"]
    assert _server(default_manifests)["image"] == f"localhost/image-classifier:{app_version}"
    tagged = _deployment(_render("--set", "image.tag=3-abc"))
    assert tagged["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":3-abc")
    assert tagged["metadata"]["labels"]["app.kubernetes.io/version"] == "3-abc"


def _assert_hardened(pod: dict[str, Any]) -> None:
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (10001, 10001)
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert set(container["resources"]["limits"]) >= {"cpu", "memory", "ephemeral-storage"}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        tmp = next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"])
        assert tmp["emptyDir"]["medium"] == "Memory" and tmp["emptyDir"]["sizeLimit"]


def test_server_and_test_pods_are_hardened(default_manifests: Docs) -> None:
    _assert_hardened(_deployment(default_manifests)["spec"]["template"]["spec"])
    _assert_hardened(one(default_manifests, "Pod", SMOKE_TEST)["spec"])
    account = one(default_manifests, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    pod = _deployment(default_manifests)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def test_probes_are_distinct_and_on_the_http_port(default_manifests: Docs) -> None:
    server = _server(default_manifests)
    assert server["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    paths = {
        probe: (server[probe]["httpGet"]["path"], server[probe]["httpGet"]["port"])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert paths == {
        "startupProbe": ("/v2/health/ready", "http"),
        "readinessProbe": ("/v2/health/ready", "http"),
        "livenessProbe": ("/v2/health/live", "http"),
    }
    assert server["startupProbe"] != server["readinessProbe"]


def test_shutdown_outlasts_prestop_and_gunicorn_grace(default_manifests: Docs) -> None:
    pod = _deployment(default_manifests)["spec"]["template"]["spec"]
    sleep = _server(default_manifests)["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful = int(_settings(default_manifests)["GRACEFUL_TIMEOUT_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > sleep + graceful


def test_prestop_falls_back_to_exec_sleep_before_kubernetes_1_30() -> None:
    server = _server(_render("--kube-version", "1.29.4"))
    assert server["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}


def test_kubernetes_older_than_1_29_is_refused() -> None:
    with pytest.raises(HelmError, match=r"kubeVersion"):
        _render("--kube-version", "1.28.0")


def _config_checksum(*arguments: str) -> str:
    return _deployment(_render(*arguments))["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"
    ]


def test_pods_roll_when_settings_change() -> None:
    assert _config_checksum() == _config_checksum()
    assert _config_checksum() != _config_checksum("--set", "batching.maxSize=8")


def test_pods_roll_when_chart_token_changes() -> None:
    def checksum(token: str) -> str:
        docs = _render("--set", f"auth.enabled=true,auth.token={token}")
        return _deployment(docs)["spec"]["template"]["metadata"]["annotations"]["checksum/auth"]

    assert checksum("one") != checksum("two")


def test_pods_spread_over_nodes(default_manifests: Docs) -> None:
    pod = _deployment(default_manifests)["spec"]["template"]["spec"]
    selector = _deployment(default_manifests)["spec"]["selector"]["matchLabels"]
    keys = [c["topologyKey"] for c in pod["topologySpreadConstraints"]]
    assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    for constraint in pod["topologySpreadConstraints"]:
        assert constraint["labelSelector"]["matchLabels"] == selector


def test_every_object_carries_the_standard_labels(default_manifests: Docs) -> None:
    for doc in default_manifests:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert re.fullmatch(r"image-classifier-\d+\.\d+\.\d+", labels["helm.sh/chart"])


def _is_test_object(doc: dict[str, Any]) -> bool:
    return doc["metadata"]["labels"].get("app.kubernetes.io/component") == "test"


def test_long_release_names_are_cut_to_63_characters() -> None:
    release = "r" * 53  # the longest name helm accepts
    docs = manifests(template((), release=release))
    names = {doc["metadata"]["name"] for doc in docs if not _is_test_object(doc)}
    assert names == {f"{release}-image-cla"}
    assert len(f"{release}-image-cla") == 63


def test_service_selects_the_server_pods_but_not_the_test_pod(
    default_manifests: Docs,
) -> None:
    selector = one(default_manifests, "Service")["spec"]["selector"].items()
    server_labels = _deployment(default_manifests)["spec"]["template"]["metadata"]["labels"].items()
    test_labels = one(default_manifests, "Pod", SMOKE_TEST)["metadata"]["labels"].items()
    assert selector <= server_labels
    assert not selector <= test_labels


def test_network_policy_admits_only_port_8080_from_the_listed_peers() -> None:
    docs = _render("--set", "networkPolicy.from[0].namespaceSelector.matchLabels.team=edge")
    spec = one(docs, "NetworkPolicy", FULLNAME)["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"] == []
    [rule] = spec["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"team": "edge"}}},
        {"podSelector": {"matchLabels": {
            "app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/component": "test",
        }}},
    ]  # fmt: skip


def test_test_pod_may_only_reach_the_server_pods(default_manifests: Docs) -> None:
    policy = one(default_manifests, "NetworkPolicy", SMOKE_TEST)["spec"]
    test_labels = one(default_manifests, "Pod", SMOKE_TEST)["metadata"]["labels"].items()
    assert policy["podSelector"]["matchLabels"].items() <= test_labels
    assert policy["ingress"] == []
    to_server, dns = policy["egress"]
    server_selector = _deployment(default_manifests)["spec"]["selector"]
    assert to_server["to"] == [{"podSelector": server_selector}]
    assert to_server["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert {port["port"] for port in dns["ports"]} == {53}


def test_service_monitor_needs_the_prometheus_operator_api() -> None:
    assert by_kind(_render("--set", "serviceMonitor.enabled=true"), "ServiceMonitor") == []
    operator_api = ("--api-versions", "monitoring.coreos.com/v1")
    docs = _render("--set", "serviceMonitor.enabled=true", *operator_api)
    endpoint = one(docs, "ServiceMonitor")["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")


def test_ingress_routes_to_the_service_http_port() -> None:
    docs = _render("--set", "ingress.enabled=true")
    path = one(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]
    assert path["backend"] == {"service": {"name": FULLNAME, "port": {"name": "http"}}}


def _smoke_test_script(docs: Docs) -> str:
    return one(docs, "ConfigMap", SMOKE_TEST)["data"]["smoke_test.py"]


def test_helm_test_pod_runs_the_smoke_script_against_the_service(
    rendered_environments: dict[str, Docs],
) -> None:
    docs = rendered_environments["prod"]
    pod = one(docs, "Pod", SMOKE_TEST)
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    [container] = pod["spec"]["containers"]
    assert container["image"] == _server(docs)["image"]
    assert container["command"] == ["python3", "/scripts/smoke_test.py"]
    env = {item["name"]: item["value"] for item in container["env"]}
    service = one(docs, "Service")
    assert (
        env["BASE_URL"]
        == f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    )
    assert env["AUTH_TOKEN_FILE"] == _settings(docs)["AUTH_TOKEN_FILE"]
    compile(_smoke_test_script(docs), "smoke_test.py", "exec")


def test_smoke_script_sends_a_real_png(default_manifests: Docs) -> None:
    # Run only the PNG builder of the script (the rest needs the running service).
    script = _smoke_test_script(default_manifests)
    builder = script[script.index("def png_of_a_one") : script.index("def call")]
    namespace: dict[str, Any] = {}
    exec("import struct, zlib\n" + builder, namespace)
    png = namespace["png_of_a_one"]()
    image = Image.open(io.BytesIO(png))
    image.load()
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (28, 28))
    assert image.getpixel((14, 14)) == (255, 255, 255) and image.getpixel((0, 0)) == (0, 0, 0)
