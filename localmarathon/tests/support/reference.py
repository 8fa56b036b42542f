"""Where the Marathon reference files are: ``$MARATHON_REFERENCE_DIR`` if set, else the copy
vendored in ``<repo>/tests/reference`` (its sources and licenses in SOURCES.md there)."""

from __future__ import annotations

import os
from pathlib import Path

# localmarathon/tests/support/reference.py: the repository is three levels up.
REPO = Path(__file__).resolve().parents[3]


def reference_dir() -> Path:
    env = os.environ.get("MARATHON_REFERENCE_DIR")
    if env:
        return Path(env)
    return REPO / "tests" / "reference"
