"""The steps of `make up` and `make down` for one environment."""

import subprocess
import sys
import time
import urllib.error
import urllib.request

from envconfig import REPO_ROOT, Environment
from ops.deploy import prerequisites
from ops.deploy.pulumi_cli import PulumiCli
from ops.toolchain.progress import step
from policy import PACK_DIR
from training.ensure import ensure_trained

READY_TIMEOUT_SECONDS = 180


def up(environment: Environment, cli: PulumiCli) -> None:
    """Train if there is no model, build the image, `pulumi up` (which pushes and releases)."""
    env = environment.name
    with step(f"check what `make up ENV={env}` needs"):
        prerequisites.check(environment)
    with step(f"the {env} model (trained if there is none)"):
        ensure_trained(env)
    with step(f"build the {env} image"):
        _python("-m", "imagebuild", "--env", env)
    with step(f"pulumi up -s {env}"):
        cli.select_stack(env)
        # The policy pack checks every stack's resources before anything changes.
        cli.run(
            "up", "--stack", env, "--yes", "--skip-preview", "--policy-pack", str(PACK_DIR),
            capture=False,
        )  # fmt: skip
    outputs = cli.outputs(env)
    print(f"released {outputs['releaseName']} revision {outputs['releaseRevision']}: "
          f"model {outputs['modelVersion']}, image {outputs['image']}")  # fmt: skip
    print(f"in-cluster endpoint: {outputs['endpoint']}")
    url = outputs.get("localUrl")
    if url:
        with step(f"wait until {url} answers ready through the release's Service"):
            wait_until_ready(url)
        _print_how_to_predict(url)


def down(environment: Environment, cli: PulumiCli) -> None:
    """Reverse `up`: `pulumi destroy` the stack (local: that stops the cluster Pulumi started)."""
    env = environment.name
    if not cli.has_stack(env):
        print(f"stack {env} does not exist: nothing to destroy")
        return
    kept = cli.protected_resources(env)
    with step(f"pulumi destroy -s {env}"):
        cli.run(
            "destroy", "--stack", env, "--yes", "--skip-preview", "--exclude-protected",
            capture=False,
        )  # fmt: skip
    if kept:
        print(f"kept (protected in {environment.path.name}; unprotect them to delete):")
        for urn in kept:
            print(f"  {urn}")


def wait_until_ready(url: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll `url`/v2/health/ready until it answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer ready within {timeout:.0f}s (last: {last})")


def _python(*args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=REPO_ROOT, check=True)


def _print_how_to_predict(url: str) -> None:
    print(
        f"""
The release answers on {url} (its Service, through kube-proxy, load-balanced over its pods).
  model metadata (input shape): curl {url}/v2/models/image-classifier
  predict one PNG/JPEG (TF-Serving REST):
    printf '{{"instances": [{{"b64": "%s"}}]}}' "$(base64 -w0 digit.png)" > request.json
    curl -X POST {url}/v1/models/image-classifier:predict \\
      -H 'Content-Type: application/json' -d @request.json
  helm test: eval "$(make -s env)"; helm test image-classifier -n image-classifier --logs
Destroy the stack (and stop the cluster it started) with `make down ENV=local`."""
    )
