"""The HTTPS Gateway: what staging and prod render on GKE, and the values it refuses."""

from pathlib import Path
from typing import Any

import pytest

from envconfig import known_environments, load_environment
from tests.chart.helm import (
    CHART_DIR,
    HELM_BINARIES,
    Docs,
    HelmError,
    by_kind,
    environment_values,
    helm,
    manifests,
    one,
    template,
    write_values,
)

pytestmark = pytest.mark.chart

FULLNAME = "image-classifier"
# What a GKE cluster with the Gateway API on serves; without them no Gateway object renders.
GKE_APIS = (
    "--api-versions",
    "gateway.networking.k8s.io/v1/Gateway",
    "--api-versions",
    "networking.gke.io/v1/HealthCheckPolicy",
)
GATEWAY_OBJECTS = {
    "Gateway",
    "HTTPRoute",
    "HealthCheckPolicy",
    "GCPBackendPolicy",
    "GCPGatewayPolicy",
}


def released_on_gke(environment: str, directory: Path) -> Docs:
    """`environment` as the Pulumi program releases it, rendered for a GKE cluster."""
    values = environment_values(environment)
    return manifests(template([write_values(values, directory, environment)], *GKE_APIS))


@pytest.fixture(scope="module")
def gke_environments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Docs]:
    directory = tmp_path_factory.mktemp("gke-values")
    return {name: released_on_gke(name, directory) for name in ("staging", "prod")}


def _gateway_host(environment: str) -> str:
    return str(load_environment(environment).cluster["https"]["host"])


@pytest.mark.parametrize(
    ("environment", "class_name"),
    [("prod", "gke-l7-global-external-managed"), ("staging", "gke-l7-rilb")],
)
def test_gke_environments_serve_https_only_through_a_gateway(
    environment: str, class_name: str, gke_environments: dict[str, Docs]
) -> None:
    docs = gke_environments[environment]
    host = _gateway_host(environment)
    gateway = one(docs, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == class_name
    [listener] = gateway["spec"]["listeners"]  # no port-80 listener at all
    assert (listener["protocol"], listener["port"], listener["hostname"]) == ("HTTPS", 443, host)
    assert listener["tls"]["mode"] == "Terminate"
    assert gateway["spec"]["addresses"][0]["type"] == "NamedAddress"
    service = one(docs, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    route = one(docs, "HTTPRoute")["spec"]
    assert route["parentRefs"] == [{"name": FULLNAME, "sectionName": "https"}]
    assert route["hostnames"] == [host]
    assert route["rules"] == [
        {"backendRefs": [{"name": FULLNAME, "port": service["spec"]["ports"][0]["port"]}]}
    ]
    health = one(docs, "HealthCheckPolicy")["spec"]
    assert health["default"]["config"]["httpHealthCheck"]["requestPath"] == "/v2/health/ready"
    assert health["targetRef"] == {"group": "", "kind": "Service", "name": FULLNAME}
    ssl = one(docs, "GCPGatewayPolicy")["spec"]
    assert ssl["default"]["sslPolicy"] and ssl["targetRef"]["kind"] == "Gateway"


def test_prod_certificate_comes_from_a_map_and_cloud_armor_filters_sources(
    gke_environments: dict[str, Docs],
) -> None:
    docs = gke_environments["prod"]
    gateway = one(docs, "Gateway")
    assert gateway["metadata"]["annotations"]["networking.gke.io/certmap"]
    assert "options" not in gateway["spec"]["listeners"][0]["tls"]
    backend = one(docs, "GCPBackendPolicy")["spec"]
    assert backend["default"]["securityPolicy"]
    assert backend["targetRef"] == {"group": "", "kind": "Service", "name": FULLNAME}


def test_staging_certificate_is_a_regional_certificate_manager_one(
    gke_environments: dict[str, Docs],
) -> None:
    gateway = one(gke_environments["staging"], "Gateway")
    assert "annotations" not in gateway["metadata"]
    options = gateway["spec"]["listeners"][0]["tls"]["options"]
    assert options["networking.gke.io/cert-manager-certs"]
    assert by_kind(gke_environments["staging"], "GCPBackendPolicy") == []


@pytest.mark.parametrize("environment", known_environments())
def test_no_gateway_object_without_the_gke_gateway_api(
    environment: str, rendered_environments: dict[str, Docs]
) -> None:
    assert {doc["kind"] for doc in rendered_environments[environment]} & GATEWAY_OBJECTS == set()


ENABLED = "gateway.enabled=true,gateway.host=classify.example.com"
Case = tuple[str, list[str], list[str]]
REJECTED: list[Case] = [
    (
        "no-host",
        ["--set", "gateway.enabled=true,gateway.certificateMap=m"],
        ["gateway.enabled is true but gateway.host is empty"],
    ),
    (
        "external-without-map",
        ["--set", ENABLED],
        ["gke-l7-global-external-managed takes its certificate from gateway.certificateMap"],
    ),
    (
        "internal-without-certificates",
        ["--set", f"{ENABLED},gateway.className=gke-l7-rilb"],
        ["gke-l7-rilb takes its certificates from gateway.certificates"],
    ),
    (
        "plain-http-beside",
        ["--set", f"{ENABLED},gateway.certificateMap=m,service.type=LoadBalancer"],
        ["service.type LoadBalancer would publish plain HTTP beside it"],
    ),
    ("unknown-class", ["--set", "gateway.className=gke-l7-gxlb"], ["'/gateway/className'"]),
    ("host-not-a-name", ["--set", "gateway.host=Classify Example"], ["'/gateway/host'"]),
    ("typo", ["--set", "gateway.certificatemap=m"], ["'/gateway'", "'certificatemap'"]),
]


@pytest.mark.parametrize("binary", HELM_BINARIES)
@pytest.mark.parametrize(
    ("arguments", "fragments"), [pytest.param(a, f, id=case) for case, a, f in REJECTED]
)
def test_gateway_values_are_checked_naming_the_keys(
    binary: str, arguments: list[str], fragments: list[str]
) -> None:
    with pytest.raises(HelmError) as failure:
        helm("template", FULLNAME, str(CHART_DIR), *arguments, *GKE_APIS, binary=binary)
    for fragment in fragments:
        assert fragment in str(failure.value)


def test_internal_gateway_joins_its_certificates(tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "gateway": {
            "enabled": True,
            "className": "gke-l7-rilb",
            "host": "classify.internal.example.com",
            "certificates": ["one", "two"],
        }
    }
    docs = manifests(template([write_values(values, tmp_path)], *GKE_APIS))
    tls = one(docs, "Gateway")["spec"]["listeners"][0]["tls"]
    assert tls["options"] == {"networking.gke.io/cert-manager-certs": "one,two"}
    assert by_kind(docs, "GCPGatewayPolicy") == by_kind(docs, "GCPBackendPolicy") == []
