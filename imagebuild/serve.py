"""`python -m imagebuild.serve MANIFEST`: run a rendered chart's container on 127.0.0.1.

MANIFEST is `helm template` output (or `-` for stdin) whose Deployment pins the built image by
digest; `--stop` removes the container again. The local environment uses it for `make up`.
"""

import argparse
import sys
from pathlib import Path

import yaml

from imagebuild.podman import PodmanError
from imagebuild.run import PodSpecError, serve, stop
from toolchain.progress import say

DEFAULT_NAME = "image-classifier-local"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagebuild.serve", description=__doc__)
    parser.add_argument("manifest", nargs="?", help="rendered chart YAML, or - for stdin")
    parser.add_argument("--port", type=int, default=8080, help="host port on 127.0.0.1")
    parser.add_argument("--name", default=DEFAULT_NAME, help="container name")
    parser.add_argument("--stop", action="store_true", help="remove the container and exit")
    args = parser.parse_args(argv)
    try:
        if args.stop:
            stop(args.name)
            return 0
        if args.manifest is None:
            parser.error("a MANIFEST (or --stop) is required")
        text = sys.stdin.read() if args.manifest == "-" else Path(args.manifest).read_text()
        manifests = [doc for doc in yaml.safe_load_all(text) if doc]
        container = serve(manifests, name=args.name, host_port=args.port)
    except (OSError, PodmanError, PodSpecError, TimeoutError, yaml.YAMLError) as error:
        say(f"error: {error}")
        return 1
    print(
        f"{container.url} (podman container {args.name}; stop: python -m imagebuild.serve --stop)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
