"""Numba: the reference loops, compiled by @njit; serial, and parallel over rows with prange.

fastmath stays False (Numba's default): LLVM may then neither reassociate the sum nor fuse a
multiply with an add, so the result is the reference's bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from case import Step, evolve, fields, serial_only, timed


@njit(fastmath=False)
def step(aold: np.ndarray, anew: np.ndarray) -> None:
    """anew's interior from aold's, both (n + 2, n + 2) with halo; i is the contiguous axis."""
    for j in range(1, aold.shape[0] - 1):
        for i in range(1, aold.shape[1] - 1):
            anew[j, i] = 0.5 * (aold[j, i] + 0.25 * (aold[j, i - 1] + aold[j, i + 1]
                                                     + aold[j - 1, i] + aold[j + 1, i]))


@njit(parallel=True, fastmath=False)
def step_parallel(aold: np.ndarray, anew: np.ndarray) -> None:
    """As step, with the rows shared among Numba's threads."""
    for j in prange(1, aold.shape[0] - 1):
        for i in range(1, aold.shape[1] - 1):
            anew[j, i] = 0.5 * (aold[j, i] + 0.25 * (aold[j, i - 1] + aold[j, i + 1]
                                                     + aold[j - 1, i] + aold[j + 1, i]))


def _compiled(kernel, threads: int) -> tuple[Step, float]:
    """Sets Numba's thread count, then compiles kernel for 2D C-ordered float64 by calling it."""
    if not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"threads = {threads}: Numba has 1 to {numba.config.NUMBA_NUM_THREADS} "
                         "here: it sees only the cores this process may run on (under mpiexec, try "
                         "--bind-to none), or set NUMBA_NUM_THREADS before starting Python")
    numba.set_num_threads(threads)
    _, seconds = timed(lambda: kernel(*fields(1)))
    return kernel, seconds


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The serial step, compiled; Numba's thread count is set to 1 so the row is truly serial."""
    serial_only("numba", threads)
    return _compiled(step, 1)


def prepare_parallel(threads: int = 1) -> tuple[Step, float]:
    """The prange step, compiled, on `threads` threads."""
    return _compiled(step_parallel, threads)


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case with the serial step; see case.py."""
    return evolve(prepare, n, steps, energy, threads)


def run_parallel(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case with the prange step on `threads` threads."""
    return evolve(prepare_parallel, n, steps, energy, threads)
