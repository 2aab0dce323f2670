"""`python -m ops.localcluster up|down|status`: manage the local cluster (control plane + node)."""

import argparse
import sys

from ops.localcluster import ClusterError, LocalCluster


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.localcluster", description=__doc__)
    parser.add_argument("action", choices=("up", "down", "status"))
    args = parser.parse_args()
    cluster = LocalCluster()
    try:
        if args.action == "up":
            kubeconfig = cluster.up()
            print(cluster.kubectl("get", "nodes", "-o", "wide"), end="")
            print(f"KUBECONFIG={kubeconfig}")
        elif args.action == "down":
            cluster.down()
            print("local cluster stopped; nothing of it is left on this host")
        elif cluster.is_running():
            print("running")
        else:
            leftovers = cluster.leftovers()
            print("stopped" + (": left behind " + "; ".join(leftovers) if leftovers else ""))
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
