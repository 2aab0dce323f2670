"""Figures the e2e tests measure on the way (rollout and scaling times), kept for the README.

They are recorded, not asserted: speed targets belong to benchmarks, not to tests.
"""

import json

from envconfig import REPO_ROOT

MEASUREMENTS = REPO_ROOT / "build" / "e2e-measurements.json"


def record_measurement(name: str, value: float) -> None:
    """Add or replace one figure in build/e2e-measurements.json and print it."""
    figures = json.loads(MEASUREMENTS.read_text()) if MEASUREMENTS.exists() else {}
    figures[name] = value
    MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"{name}: {value}")
