"""`python -m envconfig ENV`: exit 0 if ENV is a known environment, else say which are."""

import sys

from envconfig import EnvironmentConfigError, load_environment


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m envconfig ENV", file=sys.stderr)
        return 2
    try:
        load_environment(sys.argv[1])
    except EnvironmentConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
