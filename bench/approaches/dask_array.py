"""Dask Array: the grid as chunks; each step is map_overlap with a one-cell overlap (the halo)
and the NumPy expression per chunk, computed on dask's threaded scheduler ("top-down
parallelisation", as the SKA course puts it), or on a distributed LocalCluster (run_distributed)."""

from __future__ import annotations

import numpy as np

from case import Step, evolve


def _chunk_step(b: np.ndarray) -> np.ndarray:
    """A chunk with a one-cell overlap on each side: its interior updated as the reference does."""
    out = b.copy()
    out[1:-1, 1:-1] = 0.5 * (b[1:-1, 1:-1] + 0.25 * (b[1:-1, :-2] + b[1:-1, 2:]
                                                   + b[:-2, 1:-1] + b[2:, 1:-1]))
    return out


def _prepare(threads: int, scheduler: object) -> tuple[Step, float]:
    import dask.array as da

    def step(aold: np.ndarray, anew: np.ndarray) -> None:
        n = aold.shape[0] - 2
        chunk = max(1, -(-n // max(1, threads)))  # one row block per thread
        interior = da.from_array(aold[1:-1, 1:-1], chunks=(chunk, n))
        # The halo holds 0, as dask's constant boundary does.
        result = interior.map_overlap(_chunk_step, depth=1, boundary=0, trim=True,
                                      dtype=np.float64)
        anew[1:-1, 1:-1] = result.compute(scheduler=scheduler, num_workers=max(1, threads))

    return step, 0.0


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The step on dask's threaded scheduler, one row block per thread."""
    return _prepare(threads, "threads")


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)


def run_distributed(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The same on a distributed LocalCluster of `threads` single-threaded worker processes."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=max(1, threads), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        return evolve(lambda t: _prepare(t, client.get), n, steps, energy, threads)
