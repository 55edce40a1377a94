"""The comparison study's case (calor's "stencil" preset), shared by every approach here.

N x N interior float64 cells, a one-cell halo held at 0 (Dirichlet), everything starts at 0.
Arrays are C-ordered ``a[j, i]`` with the halo included, so ``i`` is the contiguous axis and
``a[j, i]`` is the Fortran reference's ``a(i, j)``. One step is

    anew(i,j) = 0.5 * (aold(i,j) + 0.25 * (aold(i-1,j) + aold(i+1,j) + aold(i,j-1) + aold(i,j+1)))

summed left to right, then ``energy`` added at three source cells, then the arrays swap. Every
approach does the same float64 operations in the same order, so every final field is the same
bit for bit.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

#: Defaults of the study: 4800 x 4800 cells, 500 steps, one unit of energy per source per step.
N, STEPS, ENERGY = 4800, 500, 1.0

#: A step computes anew's interior from aold; both are (n + 2, n + 2) C-ordered float64.
Step = Callable[[np.ndarray, np.ndarray], None]
#: Prepares a step for a number of threads: returns it and the seconds spent compiling it.
Prepare = Callable[[int], "tuple[Step, float]"]


def sources(n: int) -> list[tuple[int, int]]:
    """The source cells as 0-based interior (j, i); the study gives them 1-based as (i, j)."""
    if n < 3:
        raise ValueError(f"n = {n}: the stencil case needs n >= 3 for its sources to lie inside")
    one_based_ij = [(n // 2, n // 2), (n // 3, n // 3), (n * 4 // 5, n * 8 // 9)]
    return [(j - 1, i - 1) for i, j in one_based_ij]


def fields(n: int) -> tuple[np.ndarray, np.ndarray]:
    """aold and anew, zero, with their halo: two (n + 2, n + 2) C-ordered float64 arrays."""
    return np.zeros((n + 2, n + 2)), np.zeros((n + 2, n + 2))


def evolve(prepare: Prepare, n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the case with one approach's step; times the time loop only, after compiling."""
    step, compile_seconds = prepare(threads)
    aold, anew = fields(n)
    # Halo'd indices; one scalar add each, as in the reference (two may coincide for tiny n).
    cells = [(j + 1, i + 1) for j, i in sources(n)]
    start = time.perf_counter()
    for _ in range(steps):
        step(aold, anew)
        for cell in cells:
            anew[cell] += energy
        aold, anew = anew, aold
    seconds = time.perf_counter() - start
    return {"field": aold[1:-1, 1:-1].copy(), "seconds": seconds,
            "compile_seconds": compile_seconds}


def summary(field: np.ndarray) -> dict:
    """heat (plain sum), l2 (sqrt of the sum of squares) and max of a final interior."""
    return {"heat": float(field.sum()), "l2": math.sqrt(float(np.square(field).sum())),
            "max": float(field.max())}


def timed(build: Callable[[], object]) -> tuple[object, float]:
    """Calls build() and returns what it returned and the seconds it took."""
    start = time.perf_counter()
    built = build()
    return built, time.perf_counter() - start


def serial_only(name: str, threads: int) -> None:
    """Refuses a thread count other than 1 for an approach that has no threads."""
    if threads != 1:
        raise ValueError(f"{name} runs on one thread; threads = {threads} makes no sense for it")
