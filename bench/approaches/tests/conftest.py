"""Fixtures for the approaches' tests: the folder on sys.path, a plain reference loop, and a
bit-for-bit comparison."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

APPROACHES_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APPROACHES_DIR))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (deselect with "
                                       "-m 'not slow')")


def reference_loop(n: int, steps: int, energy: float) -> np.ndarray:
    """The study's loop written out plainly on one flat list, (j, i) at j * (n + 2) + i, with
    the sources taken straight from the study's 1-based (i, j); shares no code with the
    approaches."""
    w = n + 2
    old, new = [0.0] * (w * w), [0.0] * (w * w)
    sources_ij = [(n // 2, n // 2), (n // 3, n // 3), (n * 4 // 5, n * 8 // 9)]
    for _ in range(steps):
        for j in range(1, n + 1):
            for i in range(1, n + 1):
                c = j * w + i
                new[c] = 0.5 * (old[c] + 0.25 * (old[c - 1] + old[c + 1] + old[c - w] + old[c + w]))
        for i, j in sources_ij:
            new[j * w + i] += energy
        old, new = new, old
    return np.array(old).reshape(w, w)[1:-1, 1:-1]


@pytest.fixture(scope="session")
def reference():
    """reference(n, steps, energy=1.0): the final interior of the plain loop, memoised."""
    memo: dict[tuple, np.ndarray] = {}

    def get(n: int, steps: int, energy: float = 1.0) -> np.ndarray:
        key = (n, steps, energy)
        if key not in memo:
            memo[key] = reference_loop(n, steps, energy)
        return memo[key]

    return get


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Fails unless both are C-ordered float64 fields of one shape with identical bits."""
    assert actual.dtype == np.float64 and actual.flags.c_contiguous, what
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    differ = actual.view(np.uint64) != np.ascontiguousarray(expected).view(np.uint64)
    if differ.any():
        j, i = np.argwhere(differ)[0]
        pytest.fail(f"{what}: {int(differ.sum())} of {differ.size} cells differ; first at "
                    f"(j={j}, i={i}): {actual[j, i]!r} != {expected[j, i]!r}, largest "
                    f"difference {float(np.abs(actual - expected).max()):.3e}")


@pytest.fixture(scope="session")
def same_bits():
    return assert_same_bits
