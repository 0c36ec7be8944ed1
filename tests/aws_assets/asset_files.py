"""Where the deploy assets live and how the tests read them."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "assets"
# The JSON assets are written for us-east-1 (awslogs-region, ECR image URI).
REGION = "us-east-1"


def load_json(name: str) -> dict:
    with (ASSETS / name).open() as f:
        return json.load(f)
