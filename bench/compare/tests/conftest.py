"""The comparison harness's tests: bench/compare and bench/approaches on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

COMPARE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(COMPARE_DIR.parent / "approaches"))
sys.path.insert(0, str(COMPARE_DIR))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (deselect with "
                                       "-m 'not slow')")
