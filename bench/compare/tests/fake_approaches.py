"""Test-only approaches for the comparison harness: NumPy's step, perturbed on purpose.

``wrong-fake`` adds a relative 1e-9 to every cell each step: heat, L2 and max all miss the
reference by far more than the harness's 1e-12, so it must come out WRONG (sequential and under
MPI, through mpi_driver.py). ``nearly-right`` perturbs by 1e-15 relative: other bits, but
within the tolerance, so it must come out ok, not bit-identical.
"""

from __future__ import annotations

import numpy as np

import numpy_slicing
from case import Step, evolve


def _perturbed(scale: float):
    def prepare(threads: int = 1) -> tuple[Step, float]:
        def step(aold: np.ndarray, anew: np.ndarray) -> None:
            numpy_slicing.step(aold, anew)
            anew[1:-1, 1:-1] *= 1.0 + scale

        return step, 0.0

    return prepare


prepare_wrong = _perturbed(1e-9)
prepare_nearly = _perturbed(1e-15)


def run_wrong(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    return evolve(prepare_wrong, n, steps, energy, threads)


def run_nearly(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    return evolve(prepare_nearly, n, steps, energy, threads)
