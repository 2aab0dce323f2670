"""The steps of `make up` and `make down` for one environment."""

import subprocess
import sys

from deploy.local_service import HOST_PORT, start_local_service, stop_local_service
from deploy.pulumi_cli import PulumiCli
from envconfig import REPO_ROOT, Environment
from imagebuild.record import read_record
from toolchain.progress import step
from training.ensure import ensure_trained


def up(environment: Environment, cli: PulumiCli) -> None:
    """Train if there is no model, build the image, `pulumi up`; local: serve it on :8080."""
    env = environment.name
    with step(f"the {env} model (trained if there is none)"):
        ensure_trained(env)
    with step(f"build the {env} image"):
        _python("-m", "imagebuild", "--env", env)
    with step(f"pulumi up -s {env}"):
        cli.select_stack(env)
        cli.run("up", "--stack", env, "--yes", "--skip-preview", capture=False)
    outputs = cli.outputs(env)
    print(f"released {outputs['releaseName']} revision {outputs['releaseRevision']}: "
          f"model {outputs['modelVersion']}, image {outputs['imageDigest']}")  # fmt: skip
    print(f"in-cluster endpoint: {outputs['endpoint']}")
    if environment.cluster.get("kind") == "local":
        with step(f"run the released image under podman on 127.0.0.1:{HOST_PORT}"):
            image = read_record(env).image.reference
            container = start_local_service(
                image, outputs["releaseName"], outputs["releaseNamespace"]
            )
        _print_how_to_predict(container.url)


def down(environment: Environment, cli: PulumiCli) -> None:
    """Reverse `up`: stop the local container, `pulumi destroy` the stack."""
    env = environment.name
    if environment.cluster.get("kind") == "local":
        with step("stop the local podman container"):
            stop_local_service()
    if not cli.has_stack(env):
        print(f"stack {env} does not exist: nothing to destroy")
        return
    with step(f"pulumi destroy -s {env}"):
        cli.run("destroy", "--stack", env, "--yes", "--skip-preview", capture=False)


def _python(*args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=REPO_ROOT, check=True)


def _print_how_to_predict(url: str) -> None:
    print(
        f"""
The local service answers on {url} (the same image and pod settings as the release).
  model metadata (input shape): curl {url}/v2/models/image-classifier
  predict one PNG/JPEG (TF-Serving REST):
    printf '{{"instances": [{{"b64": "%s"}}]}}' "$(base64 -w0 digit.png)" > request.json
    curl -X POST {url}/v1/models/image-classifier:predict \\
      -H 'Content-Type: application/json' -d @request.json
Stop it and destroy the stack with `make down ENV=local`."""
    )
