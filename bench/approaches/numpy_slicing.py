"""NumPy: one whole-array expression per step on shifted slices of the halo'd array."""

from __future__ import annotations

import numpy as np

from case import Step, evolve, serial_only


def step(aold: np.ndarray, anew: np.ndarray) -> None:
    """anew's interior from aold's. Python adds left to right, as the reference does:
    ((left + right) + below) + above, so the slices keep the study's operation order."""
    anew[1:-1, 1:-1] = 0.5 * (aold[1:-1, 1:-1] + 0.25 * (aold[1:-1, :-2] + aold[1:-1, 2:]
                                                         + aold[:-2, 1:-1] + aold[2:, 1:-1]))


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The step; NumPy's elementwise operations use one thread and need no compiling."""
    serial_only("numpy", threads)
    return step, 0.0


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)
