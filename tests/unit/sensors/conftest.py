"""Sensor tests: make the repo root importable (edgebench, tests.fixtures.sensors) however pytest is run."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
