"""The Pulumi program's parts: typed stack config, the cluster of each kind, the release."""
