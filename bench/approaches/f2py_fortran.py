"""F2Py: a Fortran step (f2py_kernel.f90) called from Python, built at first use."""

from __future__ import annotations

import numpy as np

from case import Step, evolve, serial_only, timed


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The compiled step; the seconds are the build's, or the cached module's import."""
    serial_only("f2py", threads)
    import compiled

    kernel, seconds = timed(compiled.f2py_kernel)

    def step(aold: np.ndarray, anew: np.ndarray) -> None:
        # a.T of a C-ordered a[j, i] is the Fortran-ordered a(i, j): no copy on the way in,
        # and intent(inout) writes straight into anew.
        kernel.step(aold.T, anew.T)

    return step, seconds


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)
