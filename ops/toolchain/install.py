"""Install steps: cached Go tools linked into one bin dir, Debian packages, Pulumi plugins."""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from ops.progress import Progress
from ops.toolchain import versions
from ops.toolchain.paths import bin_dir, cache_root, pulumi_home
from ops.toolchain.progress import SAY_PREFIX, say, step
from ops.toolchain.released import find_released
from ops.toolchain.tools import TOOLS, Tool

REPO_ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PACKAGES = (
    "podman",
    "runc",
    "buildah",
    "debootstrap",
    "uidmap",
    "slirp4netns",
    "wrk",
    "patch",
    # The service's native resize kernel (ops/toolchain/native.py).
    "gcc",
    "libc6-dev",
    # The local cluster's node: container networking, Service rules, image pushes.
    "containernetworking-plugins",
    "iptables",
    "conntrack",
    "skopeo",
    "nftables",
)
APT_LOCK_TIMEOUT_SECONDS = 300
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
# crun refuses this machine's hybrid cgroup v1; podman's default nofile (1048576) is above
# the host's hard limit, so every container start would fail with "setrlimit".
CONTAINERS_CONF_TEXT = """[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
"""


class SetupError(RuntimeError):
    """A setup step that cannot go on; the message says what to do."""


def install_tools(names: list[str]) -> None:
    """Build the named tools (all by default) unless cached, then link them into bin_dir()."""
    known = {tool.name: tool for tool in TOOLS}
    unknown = sorted(set(names) - known.keys())
    if unknown:
        raise SetupError(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(known)}")
    selected = [known[name] for name in names] if names else list(TOOLS)
    bin_dir().mkdir(parents=True, exist_ok=True)
    sources: dict[Tool, dict[str, Path]] = {}
    to_build: list[Tool] = []
    for tool in selected:
        if tool.is_installed():
            say(f"{tool.name} {tool.version}: cached in {tool.directory}")
        elif (released := find_released(tool.binaries)) is not None:
            sources[tool] = released
            where = ", ".join(str(path) for path in released.values())
            say(f"{tool.name} {tool.version}: using the released binaries {where}")
        else:
            to_build.append(tool)
    if to_build and shutil.which("go") is None:
        raise SetupError(
            f"{', '.join(tool.name for tool in to_build)} neither cached nor on PATH, and the go "
            "command that would build them is not on PATH: install Go 1.26 first"
        )
    progress = Progress(
        {_building(tool): tool.cold_build_seconds for tool in to_build}, prefix=SAY_PREFIX
    )
    for tool in to_build:
        with progress.stage(_building(tool)):
            tool.install()
    for tool in selected:
        built = {binary: tool.directory / binary for binary in tool.binaries}
        for binary, source in sources.get(tool, built).items():
            link = bin_dir() / binary
            link.unlink(missing_ok=True)
            link.symlink_to(source)


def _building(tool: Tool) -> str:
    return f"{tool.name} {tool.version}: building from the Go module proxy"


def install_system_packages() -> None:
    """apt-get install the container tools when missing, and configure them for this host."""
    missing = [name for name in DEBIAN_PACKAGES if not _debian_package_installed(name)]
    if missing:
        with step(f"apt-get install {' '.join(missing)}"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            # Wait (bounded) for another apt or unattended-upgrades to release the lock.
            lock_wait = f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}"
            subprocess.run(["apt-get", "-o", lock_wait, "update", "-qq"], check=True, env=env)
            subprocess.run(
                [
                    "apt-get",
                    "-o",
                    lock_wait,
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    *missing,
                ],
                check=True,
                env=env,
            )
    else:
        say(f"debian packages present: {' '.join(DEBIAN_PACKAGES)}")
    if not CONTAINERS_CONF.exists() or CONTAINERS_CONF.read_text() != CONTAINERS_CONF_TEXT:
        CONTAINERS_CONF.parent.mkdir(parents=True, exist_ok=True)
        CONTAINERS_CONF.write_text(CONTAINERS_CONF_TEXT)
        say(f"wrote {CONTAINERS_CONF} (runc runtime, ulimits within the host's)")


def _debian_package_installed(name: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() == "install ok installed"


def register_pulumi_plugins() -> None:
    """Install the built provider into PULUMI_HOME so the engine never downloads one."""
    plugin_dir = pulumi_home() / "plugins" / f"resource-kubernetes-v{versions.PULUMI_KUBERNETES}"
    if (plugin_dir / "pulumi-resource-kubernetes").exists():
        say(f"pulumi plugin kubernetes {versions.PULUMI_KUBERNETES}: registered")
        return
    with step(f"pulumi plugin install resource kubernetes {versions.PULUMI_KUBERNETES}"):
        subprocess.run(
            [
                str(bin_dir() / "pulumi"),
                "plugin",
                "install",
                "resource",
                "kubernetes",
                versions.PULUMI_KUBERNETES,
                "--file",
                str(bin_dir() / "pulumi-resource-kubernetes"),
            ],
            check=True,
            env=os.environ | pulumi_environment(),
        )


def pulumi_environment() -> dict[str, str]:
    """Settings for a local, non-interactive engine that never reaches the network."""
    return {
        "PULUMI_HOME": str(pulumi_home()),
        "PULUMI_BACKEND_URL": f"file://{cache_root() / 'pulumi-state'}",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        # The 3.79 language host ignores Pulumi.yaml's `virtualenv` as the 3.260 CLI sends it.
        "PULUMI_PYTHON_CMD": str(REPO_ROOT / ".venv" / "bin" / "python"),
    }


# The passphrase of the local stack's secrets (a throwaway cluster's kubeconfig): it is in the
# repository, so it is never used for another stack.
LOCAL_STACK_PASSPHRASE = "local-only"


def exports(style: str, stack: str | None = None) -> str:
    """Exports of the tool environment: `shell` for eval by a person, `make` for the Makefile;
    with `stack` local, also the local stack's passphrase."""
    if style == "make":
        values = {"TOOLS_BIN": str(bin_dir()), "KUBECONFIG": str(kubeconfig_path())}
        values |= pulumi_environment()
        return "\n".join(f"export {name} := {value}" for name, value in values.items())
    values = {
        "PATH": f"{bin_dir()}:{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(kubeconfig_path()),
    } | pulumi_environment()
    if stack == "local":
        values["PULUMI_CONFIG_PASSPHRASE"] = LOCAL_STACK_PASSPHRASE
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items())


def kubeconfig_path() -> Path:
    """Kubeconfig of the local control plane that `make cluster-up` starts."""
    return cache_root() / "cluster" / "kubeconfig.yaml"
