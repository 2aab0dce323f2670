"""The local Kubernetes cluster: a real control plane and one real node, as host processes."""

from ops.localcluster.cluster import ClusterError, LocalCluster

__all__ = ["ClusterError", "LocalCluster"]
