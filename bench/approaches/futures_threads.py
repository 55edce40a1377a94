"""concurrent.futures: the NumPy step cut into row blocks that a ThreadPoolExecutor computes
together (NumPy releases the GIL in its loops). Parallel Python (PP), which the study's
tutorials used, is Python 2 only and unmaintained; concurrent.futures is its modern equivalent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from case import Step, evolve


def _rows(n: int, parts: int) -> list[tuple[int, int]]:
    """Halo'd row ranges [lo, hi) of `parts` nearly equal blocks of n interior rows."""
    cuts = [1 + (n * p) // parts for p in range(parts + 1)]
    return [(cuts[p], cuts[p + 1]) for p in range(parts) if cuts[p] < cuts[p + 1]]


def block(aold: np.ndarray, anew: np.ndarray, lo: int, hi: int) -> None:
    """Rows lo..hi-1 of anew's interior, in the reference's order of operations."""
    anew[lo:hi, 1:-1] = 0.5 * (aold[lo:hi, 1:-1] + 0.25 * (aold[lo:hi, :-2] + aold[lo:hi, 2:]
                                                          + aold[lo - 1:hi - 1, 1:-1]
                                                          + aold[lo + 1:hi + 1, 1:-1]))


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The step over `threads` row blocks on a pool of as many threads."""
    pool = ThreadPoolExecutor(max_workers=max(1, threads))

    def step(aold: np.ndarray, anew: np.ndarray) -> None:
        blocks = _rows(aold.shape[0] - 2, max(1, threads))
        for f in [pool.submit(block, aold, anew, lo, hi) for lo, hi in blocks]:
            f.result()

    return step, 0.0


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)
