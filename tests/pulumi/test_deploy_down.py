"""`make down` with the real engine: it destroys a stack but for its protected resources, and
names those it kept (as prod's cluster and registry are protected)."""

import textwrap
from pathlib import Path

import pytest
import yaml

from envconfig import REPO_ROOT, Environment
from ops.deploy.orchestrate import down
from ops.deploy.pulumi_cli import PulumiCli

pytestmark = pytest.mark.pulumi

PROGRAM = """
import pulumi

pulumi.ComponentResource("test:index:Kept", "network", opts=pulumi.ResourceOptions(protect=True))
pulumi.ComponentResource("test:index:Gone", "release")
"""


@pytest.fixture
def project(tmp_path: Path) -> PulumiCli:
    """A one-file project with a protected and an unprotected resource, on a file backend."""
    definition = {
        "name": "down-test",
        "runtime": {"name": "python", "options": {"virtualenv": str(REPO_ROOT / ".venv")}},
    }
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(definition))
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    return PulumiCli(
        project_dir=tmp_path,
        overrides={
            "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "down-test",
        },
    )


def urns(cli: PulumiCli) -> list[str]:
    state = yaml.safe_load(cli.run("stack", "export", "--stack", "dev"))
    return [resource["urn"] for resource in state["deployment"].get("resources") or []]


def test_down_keeps_and_names_the_protected_resources(
    project: PulumiCli, capsys: pytest.CaptureFixture[str]
) -> None:
    project.select_stack("dev")
    project.run("up", "--stack", "dev", "--yes", "--skip-preview")
    kept = "urn:pulumi:dev::down-test::test:index:Kept::network"
    assert {kept, "urn:pulumi:dev::down-test::test:index:Gone::release"} <= set(urns(project))

    stack_file = REPO_ROOT / "environments" / "Pulumi.dev.yaml"
    down(Environment("dev", stack_file, training={}, chart={}, cluster={}), project)

    assert [urn for urn in urns(project) if "test:index" in urn] == [kept]
    said = capsys.readouterr().out
    assert f"kept (protected in {stack_file.name}; unprotect them to delete):\n  {kept}" in said


def test_down_of_a_stack_that_does_not_exist_says_so(
    project: PulumiCli, capsys: pytest.CaptureFixture[str]
) -> None:
    down(Environment("dev", Path("Pulumi.dev.yaml"), training={}, chart={}, cluster={}), project)
    assert "stack dev does not exist: nothing to destroy" in capsys.readouterr().out
