"""`python -m ops.toolchain`: set up the tools, or print the environment that uses them."""

import argparse
import sys
from pathlib import Path

from ops.toolchain import gobuild, install, native, python_env, tools
from ops.toolchain.progress import say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.toolchain", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_tools = commands.add_parser("tools", help="build (or reuse) the Go tools and link them")
    build_tools.add_argument("names", nargs="*", help="only these tools (default: all)")
    commands.add_parser("venv", help="create (or reuse) the pinned Python virtualenv as .venv")
    commands.add_parser("native", help="compile the service's resize kernel (when out of date)")
    commands.add_parser("lock", help="re-resolve pyproject.toml into requirements.lock")
    commands.add_parser("lock-go", help="re-resolve the generated Go modules into gomod/")
    commands.add_parser("system", help="install podman, runc and friends from Debian")
    commands.add_parser("plugins", help="register the built Pulumi plugins with the engine")
    env = commands.add_parser("env", help="print exports for PATH, PULUMI_* and KUBECONFIG")
    env.add_argument("--format", choices=("shell", "make"), default="shell")
    env.add_argument("--stack", help="local: also export the local stack's passphrase")
    commands.add_parser("bin-dir", help="print the directory holding every tool")
    args = parser.parse_args(argv)
    try:
        if args.command == "tools":
            install.install_tools(args.names)
        elif args.command == "venv":
            python_env.ensure_venv(Path.cwd())
        elif args.command == "native":
            native.build_native()
        elif args.command == "lock":
            python_env.write_lock(Path.cwd())
        elif args.command == "lock-go":
            for lock in tools.lock_go_modules():
                say(f"wrote {lock}/go.mod and go.sum")
        elif args.command == "system":
            install.install_system_packages()
        elif args.command == "plugins":
            install.register_pulumi_plugins()
        elif args.command == "env":
            print(install.exports(args.format, args.stack))
        else:
            print(install.bin_dir())
    except (gobuild.BuildError, install.SetupError, native.NativeBuildError) as error:
        say(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
