"""The policy pack: `pulumi preview|up --policy-pack <PACK_DIR>` runs every rule before a change."""

from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent
