"""Cython: the reference loops on typed memoryviews (cython_kernel.pyx), compiled at first use."""

from __future__ import annotations

from case import Step, evolve, serial_only, timed


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The compiled step; the seconds are the build's, or the cached module's import."""
    serial_only("cython", threads)
    import compiled

    kernel, seconds = timed(compiled.cython_kernel)
    return kernel.step, seconds


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)
