"""`python -m ops.bench [--env ENV] [--seconds S]`: run the service benchmark, write reports/."""

import sys

from ops.bench.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
