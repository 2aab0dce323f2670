"""The servers a user would pick instead (KServe, MLServer, BentoML, LitServe) on the same model.

Each peer runs from its own pinned virtualenv (`ops.bench.peer_env`), serves the SavedModel's
`serving_default` the way that framework's documentation does it (`ops/bench/peer_apps/`), with
the service's worker count, intra-op threads and batching limits, on 127.0.0.1 only. Its top
class for the bench's JPEG must equal the service's before its throughput counts.
"""

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ops.bench.load import LoadResult
from ops.bench.peer_env import InstallError, PeerEnv, ensure_env, locked, peer_env
from ops.bench.server import Server, free_port, launch

APPS = Path(__file__).with_name("peer_apps")
STARTUP_TIMEOUT_SECONDS = 180
MODEL_NAME = "image-classifier"


def _b64(jpeg: bytes) -> str:
    return base64.b64encode(jpeg).decode()


@dataclass(frozen=True)
class Peer:
    """One framework: its pin, how it starts, what it is sent and where its answer's scores are."""

    name: str
    package: str
    version: str
    arguments: tuple[str, ...]  # after the venv's python; {port} is replaced
    path: str
    ready_path: str
    batching: str
    body: Callable[[bytes], dict[str, Any]]
    scores: Callable[[Any], list[float]]
    extra_requirements: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """Its virtualenv's folder name: `<package>-<version>`."""
        return f"{self.package}-{self.version}"

    def env(self) -> PeerEnv:
        """The pinned virtualenv: the framework, its extras and the project's TensorFlow."""
        pins = (f"{self.package}=={self.version}", *self.extra_requirements)
        return peer_env(self.slug, (*pins, locked("tensorflow_cpu")))

    def command(self, port: int) -> list[str]:
        """Arguments to the venv's python that start the server on `port`."""
        return [argument.format(port=port) for argument in self.arguments]


PEERS = (
    Peer(
        name="KServe",
        package="kserve",
        version="0.21.0",
        arguments=("kserve_app.py", "--http_port", "{port}"),
        path=f"/v1/models/{MODEL_NAME}:predict",
        ready_path=f"/v1/models/{MODEL_NAME}",
        batching="none in the Python model server (KServe batches in its agent sidecar)",
        body=lambda jpeg: {"instances": [{"b64": _b64(jpeg)}]},
        scores=lambda answer: answer["predictions"][0],
    ),
    Peer(
        name="MLServer",
        package="mlserver",
        version="1.7.1",
        arguments=("mlserver_app.py",),
        path=f"/v2/models/{MODEL_NAME}/infer",
        ready_path=f"/v2/models/{MODEL_NAME}/ready",
        batching="adaptive batching (max_batch_size, max_batch_time)",
        body=lambda jpeg: {
            "inputs": [
                {
                    "name": "images",
                    "shape": [1],
                    "datatype": "BYTES",
                    "data": [_b64(jpeg)],
                    "parameters": {"content_type": "base64"},
                }
            ]
        },
        scores=lambda answer: answer["outputs"][0]["data"],
        # uvloop 0.22 made get_event_loop() raise outside a running loop, which MLServer 1.7.1's
        # inference workers call at start: they die before loading the model.
        extra_requirements=("uvloop==0.21.0",),
    ),
    Peer(
        name="BentoML",
        package="bentoml",
        version="1.4.40",
        arguments=(
            "-m",
            "bentoml",
            "serve",
            "bentoml_app:ImageClassifier",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
        ),
        path="/classify",
        ready_path="/readyz",
        batching="adaptive batching (batchable API, max_batch_size)",
        body=lambda jpeg: {"images": [_b64(jpeg)]},
        scores=lambda answer: answer[0],
    ),
    Peer(
        name="LitServe",
        package="litserve",
        version="0.2.19",
        arguments=("litserve_app.py",),
        path="/predict",
        ready_path="/health",
        batching="dynamic batching (max_batch_size, batch_timeout)",
        body=lambda jpeg: {"image": _b64(jpeg)},
        scores=lambda answer: answer["probabilities"],
    ),
)


@dataclass(frozen=True)
class ServingShape:
    """What every server gets alike: workers, intra-op threads each, batching limits."""

    workers: int
    threads: int
    batch_max_size: int
    batch_timeout_ms: float


def server_environment(
    model_dir: Path, port: int, shape: ServingShape, home: Path
) -> dict[str, str]:
    """The environment a peer app reads (see peer_apps/tf_model.py), and no project variables."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "MODEL_DIR": str(model_dir),
        "PORT": str(port),
        "WORKERS": str(shape.workers),
        "THREADS": str(shape.threads),
        "BATCH_MAX_SIZE": str(shape.batch_max_size),
        "BATCH_TIMEOUT_MS": f"{shape.batch_timeout_ms:g}",
        "PYTHONPATH": str(APPS),
        "TF_CPP_MIN_LOG_LEVEL": "1",
        # Each framework keeps its state under the venv, never in ~ or the repo; no telemetry.
        "BENTOML_HOME": str(home / "bentoml-home"),
        "BENTOML_DO_NOT_TRACK": "true",
        "DO_NOT_TRACK": "1",
    }


@dataclass(frozen=True)
class PeerRun:
    """What happened to one peer: its sweep, or why it has none."""

    peer: Peer
    sweep: list[LoadResult]
    top_label: str | None = None
    startup_seconds: float | None = None
    excluded: str | None = None


def correctness(
    peer: Peer, answer: Any, classes: tuple[str, ...], expected: str
) -> tuple[str | None, str | None]:
    """(the peer's top label, why it is excluded or None) for its answer to the JPEG."""
    try:
        scores = [float(score) for score in peer.scores(answer)]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        return None, f"its answer has no scores where {peer.name} puts them ({error!r})"
    if len(scores) != len(classes):
        return None, f"it answered {len(scores)} scores for {len(classes)} classes"
    label = classes[max(range(len(scores)), key=scores.__getitem__)]
    if label != expected:
        return label, f"its top class {label!r} is not the service's {expected!r}"
    return label, None


def start_peer(peer: Peer, env: PeerEnv, model_dir: Path, shape: ServingShape, log: Path) -> Server:
    """Start `peer` from `env` on a free loopback port (its own process group)."""
    port = free_port()
    variables = server_environment(model_dir, port, shape, env.path)
    return launch(
        peer.command(port), port, log, variables, python=str(env.python), cwd=APPS, group=True
    )


def run_peer(
    peer: Peer,
    model_dir: Path,
    shape: ServingShape,
    jpeg: bytes,
    classes: tuple[str, ...],
    expected: str,
    work: Path,
    sweep: Callable[[str, Path], list[LoadResult]],
) -> PeerRun:
    """Install (or reuse) the peer, start it, check its answer, then load it with `sweep`."""
    try:
        env = ensure_env(peer.env(), work / f"install-{peer.slug}.log")
    except InstallError as error:
        return PeerRun(peer, [], excluded=f"could not be installed: {error}")
    body = work / f"{peer.package}-request.json"
    body.write_text(json.dumps(peer.body(jpeg)))
    server = start_peer(peer, env, model_dir, shape, work / f"{peer.slug}.log")
    try:
        try:
            startup = server.wait_until(peer.ready_path, 200, STARTUP_TIMEOUT_SECONDS)
            answer = requests.post(
                server.url + peer.path,
                data=body.read_bytes(),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            answer.raise_for_status()
        except (AssertionError, requests.RequestException) as error:
            why = str(error).splitlines()[0].rstrip(":")
            return PeerRun(
                peer, [], excluded=f"did not serve: {why}; its log ends: {server.tail(1)}"
            )
        label, excluded = correctness(peer, answer.json(), classes, expected)
        if excluded is not None:
            return PeerRun(peer, [], label, startup, excluded)
        return PeerRun(peer, sweep(server.url + peer.path, body), label, startup)
    finally:
        server.stop()
        time.sleep(1)
