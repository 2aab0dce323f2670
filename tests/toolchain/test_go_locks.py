"""Every Go build is pinned: the modules the builds generate or edit load from the committed
go.mod/go.sum under `-mod=readonly` with checksum verification on, and the caller's
environment cannot switch either off."""

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from ops.toolchain import gobuild, tools
from ops.toolchain.gobuild import BuildError, WrapperBuild

pytestmark = pytest.mark.toolchain


def go_list(module: Path, *packages: str) -> None:
    """`go list -deps` under -mod=readonly: fails on any missing go.sum entry or go.mod change."""
    gobuild.run_go(["list", "-deps", *packages], module)


WRAPPERS = {
    "etcd": tools.etcd_build,
    "kubernetes control plane": lambda: tools.kubernetes_build(tools.CONTROL_PLANE),
    "kubernetes node": lambda: tools.kubernetes_build(tools.NODE),
    "pulumi": tools.pulumi_build,
}


@pytest.mark.parametrize("build", sorted(WRAPPERS))
def test_a_wrapper_module_loads_from_its_committed_lock(build: str, tmp_path: Path) -> None:
    spec = WRAPPERS[build]()
    gobuild.wrapper_module(spec, tmp_path)
    go_list(tmp_path, *spec.packages.values())


def test_the_provider_module_loads_from_its_committed_lock(tmp_path: Path) -> None:
    provider = tools.provider_tree(tmp_path)
    gobuild.apply_lock(tools.PROVIDER_LOCK, provider)
    command = provider / tools.PROVIDER_COMMAND
    # The embedded schemas are generated at build time; empty ones let the package load.
    for line in (command / "main.go").read_text().splitlines():
        if line.startswith("//go:embed "):
            for name in line.split()[1:]:
                (command / name).write_text("{}")
    go_list(command, ".")
    go_list(command, "generate.go")


@pytest.mark.parametrize(
    ("tree", "package"),
    [
        (tools.network_policies_tree, "./cmd"),
        (tools.language_host_tree, tools.LANGUAGE_HOST_PACKAGE),
    ],
    ids=["kube-network-policies", "pulumi-language-python"],
)
def test_a_patched_module_loads_from_its_own_go_sum(
    tree: Callable[[Path], Path], package: str, tmp_path: Path
) -> None:
    go_list(tree(tmp_path), package)


def test_a_lock_that_pins_another_version_stops_the_build(tmp_path: Path) -> None:
    spec: WrapperBuild = tools.etcd_build()
    (module,) = spec.requires
    stale = dataclasses.replace(spec, requires={module: "v3.0.0"})
    with pytest.raises(BuildError, match=r"does not pin go.etcd.io/etcd/server/v3 .*make lock-go"):
        gobuild.wrapper_module(stale, tmp_path)


def test_a_missing_lock_names_the_command_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"gomod/nosuch/go.mod is missing: run `make lock-go`"):
        gobuild.apply_lock("nosuch", tmp_path)


def test_the_environment_cannot_switch_off_verification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "GOFLAGS": "-mod=mod -insecure",
        "GONOSUMDB": "*",
        "GONOSUMCHECK": "1",
        "GOINSECURE": "*",
        "GOPRIVATE": "*",
        "GONOPROXY": "*",
        "GOSUMDB": "off",
    }.items():
        monkeypatch.setenv(name, value)
    env = gobuild.go_env(tmp_path)
    assert env["GOFLAGS"] == "-mod=readonly"
    assert not {"GONOSUMDB", "GONOSUMCHECK", "GOINSECURE", "GOPRIVATE", "GONOPROXY"} & set(env)
    assert "GOSUMDB" not in env  # the default, sum.golang.org, applies
    assert gobuild.go_env(tmp_path, locking=True)["GOFLAGS"] == "-mod=mod"
