"""The one error type the training command turns into a one-line message and exit code 2."""


class TrainingError(ValueError):
    """A problem a person must fix (config, dataset, artifact); the message says what and where."""


def one_line(error: Exception) -> str:
    """The message on one line; YAML parse errors span several, with a caret under the column."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip(" ^"))
