"""`python -m imagebuild --env ENV`: build ENV's images and write build/images/ENV.json."""

import argparse
import os
import sys

from envconfig import EnvironmentConfigError, known_environments, load_environment
from imagebuild.build import build_environment
from imagebuild.podman import PodmanError
from imagebuild.wheelhouse import WheelhouseError
from modelartifact import ArtifactError
from ops.toolchain.progress import say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagebuild", description=__doc__)
    parser.add_argument("--env", required=True, help=f"one of {', '.join(known_environments())}")
    parser.add_argument(
        "--force", action="store_true", help="run podman build even if the record is up to date"
    )
    args = parser.parse_args(argv)
    # Builds share two cores with everyone else's work.
    os.nice(10)
    try:
        load_environment(args.env)
        record = build_environment(args.env, force=args.force)
    except (EnvironmentConfigError, ArtifactError, PodmanError, WheelhouseError) as error:
        say(f"error: {error}")
        return 1
    print(f"{record.image.reference}@{record.image.digest}")
    print(f"{record.slim.reference}@{record.slim.digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
