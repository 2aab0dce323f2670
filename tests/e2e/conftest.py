"""A temporary Pulumi project around the real program: own stack files, own file backend.

The committed environments/ files are copied, never changed: `pulumi config set` and the
passphrase salt that `stack init` writes land in the copy. Pulumi.yaml's `main` points at
the repository, so the program, chart and policy pack under test are the real ones.

One project serves the whole session, as one checkout serves a user: each e2e module leaves
its stacks' configuration as it found it, so the next module starts from the committed files.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from envconfig import REPO_ROOT
from modelartifact.keystore import KEYS_DIR_VARIABLE, KeyStore
from ops.deploy.pulumi_cli import PulumiCli
from ops.localcluster.layout import REGISTRY
from tests.fixtures.images import start_when_needed


@pytest.fixture(scope="session", autouse=True)
def next_model_started(request: pytest.FixtureRequest) -> None:
    """Start making the next model version at the first end-to-end test when a selected test
    needs it: it is ready by the time the canary and the rolling update use it."""
    start_when_needed(request, "next_model_build")


@pytest.fixture(scope="session")
def project(
    tmp_path_factory: pytest.TempPathFactory, local_cluster: Path, local_image_record: Path
) -> Iterator[PulumiCli]:
    """A PulumiCli for a temp copy of the project with its own state directory."""
    root = tmp_path_factory.mktemp("pulumi-project")
    definition = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    definition["main"] = os.path.relpath(REPO_ROOT, root)
    definition["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(definition))
    shutil.copytree(REPO_ROOT / "environments", root / "environments")
    state = root / "state"
    state.mkdir()
    # dev releases the local build here (no second model and image), so its stack reads the
    # keys that build was sealed with: both environments' key directories are the local one.
    keys = root / "keys"
    keys.mkdir()
    for environment in ("local", "dev"):
        (keys / environment).symlink_to(KeyStore.of("local").directory)
    cli = PulumiCli(
        project_dir=root,
        overrides={
            "PULUMI_BACKEND_URL": f"file://{state}",
            "KUBECONFIG": str(local_cluster),
            # dev's secrets take the user's passphrase (local's is the repository's).
            "PULUMI_CONFIG_PASSPHRASE": "e2e-dev-passphrase",
            KEYS_DIR_VARIABLE: str(keys),
        },
    )
    for stack in ("local", "dev"):
        cli.select_stack(stack)
        cli.run("config", "set", "imageRecord", str(local_image_record), "--stack", stack)
    # dev as a user would point it at an existing cluster: this machine's, with its registry,
    # in a namespace of its own beside the local stack's release.
    for path, value in (
        ("cluster.kubeconfig", str(local_cluster)),
        ("cluster.registry", REGISTRY),
        ("cluster.registryInsecure", "true"),
        ("release.namespace", "image-classifier-dev"),
    ):
        cli.run("config", "set", "--path", path, value, "--stack", "dev")
    yield cli
    for stack in ("local", "dev"):
        if cli.has_stack(stack):
            cli.run("destroy", "--yes", "--skip-preview", "--stack", stack)
