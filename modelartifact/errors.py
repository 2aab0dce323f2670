"""The one error a reader of a model artifact raises."""


class ArtifactError(RuntimeError):
    """A model version is missing, malformed or fails its checksums; the message says where."""
