"""`python -m ops.deploy up|down --env ENV`: what `make up` and `make down` run."""

import argparse
import subprocess
import sys

from envconfig import EnvironmentConfigError, known_environments, load_environment
from ops.deploy import orchestrate
from ops.deploy.prerequisites import PrerequisiteError
from ops.deploy.pulumi_cli import PulumiCli, PulumiError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.deploy", description=__doc__)
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--env", required=True, help=f"one of {', '.join(known_environments())}")
    args = parser.parse_args(argv)
    try:
        environment = load_environment(args.env)
        action = orchestrate.up if args.action == "up" else orchestrate.down
        action(environment, PulumiCli())
    except (EnvironmentConfigError, PrerequisiteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (PulumiError, subprocess.CalledProcessError, RuntimeError, TimeoutError) as error:
        print(f"error: {args.action} {args.env} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
