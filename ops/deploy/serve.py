"""`python -m ops.deploy.serve --env ENV`: serve ENV's newest model on localhost (trained if none).

A developer entry point (`make serve`) beside the repository's training and environments; the
image ships only service/ and runs gunicorn directly.
"""

import argparse
import os
import sys

from envconfig import REPO_ROOT, EnvironmentConfigError, load_environment
from modelartifact import environment_base
from service.settings import Settings, SettingsError
from training.ensure import MODELS_DIR, trained_or_exit

GUNICORN_CONFIG = REPO_ROOT / "service" / "gunicorn.conf.py"


def main(argv: list[str]) -> int:
    """Validate, train if needed, then replace this process with gunicorn."""
    parser = argparse.ArgumentParser(prog="python -m ops.deploy.serve", description=__doc__)
    parser.add_argument("--env", required=True, help="environment: environments/Pulumi.<env>.yaml")
    args = parser.parse_args(argv)
    environ = {**os.environ, "MODEL_BASE_PATH": str(environment_base(MODELS_DIR, args.env))}
    try:
        load_environment(args.env)
        settings = Settings.from_env(environ)
    except (EnvironmentConfigError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    trained_or_exit(args.env)
    bind = f"127.0.0.1:{settings.port}"
    print(
        f"serving {settings.model_base_path / settings.model_name} on http://{bind}",
        file=sys.stderr,
    )
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), "--bind", bind]
    os.chdir(REPO_ROOT)
    os.execve(sys.executable, command, environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
