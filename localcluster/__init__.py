"""The local Kubernetes control plane: kwokctl with locally built binaries, simulated nodes."""

from localcluster.cluster import ClusterError, LocalCluster

__all__ = ["ClusterError", "LocalCluster"]
