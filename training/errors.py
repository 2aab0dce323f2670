"""The one error type the training command turns into a one-line message and exit code 2."""


class TrainingError(ValueError):
    """A problem a person must fix (config, dataset, artifact); the message says what and where."""
