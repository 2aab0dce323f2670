"""Run the Pulumi program under pulumi.runtime mocks and record what it registers.

GKE and the cloud cannot exist here, so resource creation is mocked; the program, its config
validation and the SDK's serialization (what the engine would receive) are the real ones.
"""

import json
import runpy
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks

from envconfig import PROJECT, REPO_ROOT
from tests.chart.helm import manifests, template, write_values

# How the SDK marks a secret on the wire (pulumi/runtime/rpc.py).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"

FAKE_ACCESS_TOKEN = "ya29.fake-access-token"
FAKE_PROJECT_NUMBER = "123456789012"
FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"


@dataclass
class Registered:
    """One resource registration as the engine would see it."""

    type: str
    name: str
    inputs: dict[str, Any]
    wire: dict[str, Any]
    protect: bool
    parent: str
    provider: str


@dataclass
class Recording:
    """Everything one program run registered, plus the program's module globals."""

    resources: list[Registered] = field(default_factory=list)
    program: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Registered:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
        return found[0]


class _Mocks(pulumi.runtime.Mocks):
    """Return the inputs as outputs, plus what the real providers would compute."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "pulumi-python:dynamic:Resource":
            outputs.update(kubeconfig=FAKE_KUBECONFIG, adopted=False)
        elif args.typ == "kubernetes:helm.sh/v3:Release":
            outputs["status"] = {
                "name": args.inputs["name"],
                "namespace": args.inputs["namespace"],
                "revision": 1,
                "status": "deployed",
            }
            outputs["resourceNames"] = _resource_names(args.inputs)
        elif args.typ == "gcp:container/cluster:Cluster":
            outputs.update(
                name=args.name,
                endpoint="203.0.113.10",
                masterAuth={**args.inputs.get("masterAuth", {}), "clusterCaCertificate": "Q0EK"},
            )
        elif args.typ == "gcp:serviceaccount/account:Account":
            email = f"{args.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com"
            outputs.update(email=email, member=f"serviceAccount:{email}")
        elif args.typ == "kubernetes:core/v1:Service":
            outputs["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.20"}]}}
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            return {"accessToken": FAKE_ACCESS_TOKEN}, []
        if args.token == "gcp:organizations/getProject:getProject":
            return {"projectId": args.args.get("projectId"), "number": FAKE_PROJECT_NUMBER}, []
        return {}, []


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, recording: Recording) -> None:
        super().__init__(_Mocks())
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            self.recording.resources.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    inputs=_reveal(pulumi.runtime.rpc.deserialize_properties(request.object)),
                    wire=json_format.MessageToDict(request.object),
                    protect=bool(request.protect),
                    parent=request.parent,
                    provider=request.provider,
                )
            )
        return super().RegisterResource(request)


def _resource_names(release: dict[str, Any]) -> dict[str, list[str]]:
    """What the provider reports after an install: the chart's objects (the real `helm template`
    of the release's values) by `Kind[.group]/apiVersion`, hooks aside as in the release manifest.
    """
    with tempfile.TemporaryDirectory() as directory:
        values = write_values(_reveal(release["values"]), Path(directory))
        rendered = manifests(template([values], release=release["name"]))
    names: dict[str, list[str]] = defaultdict(list)
    for doc in rendered:
        if "helm.sh/hook" in (doc["metadata"].get("annotations") or {}):
            continue
        group = doc["apiVersion"].rpartition("/")[0]
        names[f"{doc['kind']}{'.' + group if group else ''}/{doc['apiVersion']}"].append(
            doc["metadata"]["name"]
        )
    return dict(names)


def _reveal(value: Any) -> Any:
    """The plain values inside secret markers, so tests can compare them."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _reveal(value["value"])
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` mapping of the committed environments/Pulumi.<stack>.yaml."""
    document = yaml.safe_load((REPO_ROOT / "environments" / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def use_mocks(stack: str) -> None:
    """Mock resource creation for stack `stack`, so a component can be built alone in a test."""
    pulumi.runtime.set_mocks(_Mocks(), project=PROJECT, stack=stack, preview=False)


def run_program(
    stack: str, config: dict[str, Any], secrets: dict[str, str] | None = None
) -> Recording:
    """Run __main__.py as stack `stack` with `config` (stack-file form) under mocks."""
    recording = Recording()
    flat = {key: v if isinstance(v, str) else json.dumps(v) for key, v in config.items()}
    secret_keys = []
    for key, value in (secrets or {}).items():
        flat[f"{PROJECT}:{key}"] = value
        secret_keys.append(f"{PROJECT}:{key}")
    pulumi.runtime.set_all_config(flat, secret_keys)
    pulumi.runtime.set_mocks(
        _Mocks(), project=PROJECT, stack=stack, preview=False, monitor=_RecordingMonitor(recording)
    )

    @pulumi.runtime.test
    def program() -> None:
        recording.program = runpy.run_path(str(REPO_ROOT / "__main__.py"))

    program()
    return recording


def resolve(output: pulumi.Output[Any]) -> tuple[Any, bool]:
    """An output's value and whether it is secret, awaited on the mocks' event loop."""
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def wait() -> pulumi.Output[None]:
        async def both() -> None:
            result["value"] = await output.future()
            result["secret"] = await output.is_secret()

        return pulumi.Output.from_input(both())

    wait()
    return result["value"], result["secret"]
