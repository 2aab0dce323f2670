"""The policy pack under the real engine: `pulumi preview --policy-pack policy` fails on a
violation with the rule's message, and passes the resources the prod stack registers.

The program here registers components typed as the pack's targets, carrying the inputs under
test, so no provider plugin or cloud account is needed; the engine, the language host and the
pack are the ones `make up` uses.
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ops.toolchain.install import pulumi_environment
from ops.toolchain.paths import bin_dir
from policy import PACK_DIR
from policy.resource_rules import RULES_BY_TYPE
from tests.pulumi.test_program import deploy

pytestmark = pytest.mark.pulumi

PROGRAM = """
import json
from pathlib import Path

import pulumi

for index, (type_, inputs) in enumerate(json.loads(Path("resources.json").read_text())):
    pulumi.ComponentResource(type_, f"r{index}", inputs)
"""


def preview(directory: Path, resources: list[tuple[str, dict[str, Any]]]) -> tuple[int, str]:
    """`pulumi preview --policy-pack` of a program registering `resources`: (exit, output)."""
    (directory / "Pulumi.yaml").write_text("name: packcheck\nruntime: python\n")
    (directory / "__main__.py").write_text(PROGRAM)
    (directory / "resources.json").write_text(json.dumps(resources))
    state = directory / "state"
    state.mkdir()
    env = os.environ | pulumi_environment()
    env |= {
        "PATH": f"{bin_dir()}{os.pathsep}{env.get('PATH', '')}",
        # A home and a backend of its own: nothing is left in the shared ones.
        "PULUMI_HOME": str(directory / "home"),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "test-only",
    }
    pulumi = str(bin_dir() / "pulumi")
    for command in (
        ["stack", "init", "check", "--non-interactive"],
        ["preview", "--stack", "check", "--non-interactive", "--policy-pack", str(PACK_DIR)],
    ):
        result = subprocess.run(
            [pulumi, *command], cwd=directory, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            break
    return result.returncode, result.stdout + result.stderr


def test_a_violation_fails_the_preview_with_the_rule_message(tmp_path: Path) -> None:
    release = {
        "values": {
            "image": {"digest": "sha256:" + "ab" * 32},
            "resources": {
                "requests": {"cpu": "1", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
            "service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/1"]},
        }
    }
    code, output = preview(tmp_path, [("kubernetes:helm.sh/v3:Release", release)])
    assert code != 0
    assert "[mandatory]  no-open-load-balancer" in output
    assert "'0.0.0.0/1' spans 2147483648 addresses, wider than the allowed /8" in output
    assert "[mandatory]  https-only" in output


def test_the_prod_stack_passes_the_pack(tmp_path: Path) -> None:
    recording = deploy("prod", tmp_path)
    resources = [(r.type, r.inputs) for r in recording.resources if r.type in RULES_BY_TYPE]
    assert {type_ for type_, _ in resources} == set(RULES_BY_TYPE)
    directory = tmp_path / "program"
    directory.mkdir()
    code, output = preview(directory, resources)
    assert code == 0, output
    assert "Policies:" in output and "image-classifier" in output
