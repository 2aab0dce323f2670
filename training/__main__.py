"""`python -m training --env ENV [overrides]`: train ENV's model into models/ENV/image-classifier/.

Problems a person must fix (unknown environment, bad config key or value, empty or corrupt
dataset) print one line `error: …` and exit with code 2, leaving nothing in models/.
"""

import argparse
import sys
from pathlib import Path

from envconfig import EnvironmentConfigError, load_environment
from envconfig.environments import ENVIRONMENTS_DIR
from modelartifact import ArtifactError
from training.config import resolve_config
from training.dataset import prepare_dataset
from training.errors import TrainingError, one_line


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The flags; each override is None unless given, so the environment's value stands."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--env", required=True, help="environment: environments/Pulumi.<env>.yaml")
    parser.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS_DIR)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--max-images-per-class", type=int)
    parser.add_argument("--data-dir", type=lambda value: Path(value).resolve())
    parser.add_argument("--models-dir", type=lambda value: Path(value).resolve())
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run one training; return the process exit code."""
    args = parse_args(argv)
    overrides = {
        "epochs": args.epochs,
        "seed": args.seed,
        "image_size": args.image_size,
        "max_images_per_class": args.max_images_per_class,
        "data_dir": args.data_dir,
        "models_dir": args.models_dir,
    }
    try:
        environment = load_environment(args.env, args.environments_dir)
        config = resolve_config(environment, overrides)
        dataset = prepare_dataset(config)
        # Imported late: TensorFlow takes seconds to load, bad input is reported before that.
        from training.train import train

        version_dir = train(config, environment.name, dataset)
    except (EnvironmentConfigError, TrainingError, ArtifactError) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    print(f"published {version_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
