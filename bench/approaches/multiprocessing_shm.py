"""multiprocessing: row blocks in processes that share the two halo'd arrays
(multiprocessing.shared_memory). Each step, every process updates its rows reading its
neighbours' edge rows straight from the shared array (that is the halo exchange), adds the
sources in its rows, and waits at a barrier before the arrays swap roles."""

from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing.shared_memory import SharedMemory

import numpy as np

from case import sources
from futures_threads import _rows, block


def _worker(names: tuple[str, str], n: int, rows: tuple[int, int], steps: int, energy: float,
            barrier, seconds) -> None:
    shared = [SharedMemory(name=name) for name in names]
    try:
        old, new = (np.ndarray((n + 2, n + 2), dtype=np.float64, buffer=s.buf) for s in shared)
        lo, hi = rows
        # Halo'd source cells in this block, in the reference's order.
        mine = [(j + 1, i + 1) for j, i in sources(n) if lo <= j + 1 < hi]
        barrier.wait()
        start = time.perf_counter()
        for _ in range(steps):
            block(old, new, lo, hi)
            for cell in mine:
                new[cell] += energy
            barrier.wait()  # every row of `new` is written before anyone reads it as `old`
            old, new = new, old
        if lo == 1:
            seconds.value = time.perf_counter() - start
        del old, new
    finally:
        for s in shared:
            s.close()


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case on `threads` processes; see case.py. The time is the time loop's,
    from the first barrier, after the processes started."""
    size = (n + 2) * (n + 2) * 8
    shared = [SharedMemory(create=True, size=size) for _ in range(2)]
    try:
        for s in shared:
            np.ndarray((n + 2, n + 2), dtype=np.float64, buffer=s.buf)[:] = 0.0
        context = mp.get_context("fork")
        blocks = _rows(n, max(1, threads))
        barrier, seconds = context.Barrier(len(blocks)), context.Value("d", 0.0)
        workers = [context.Process(target=_worker, args=(tuple(s.name for s in shared), n, rows,
                                                         steps, energy, barrier, seconds))
                   for rows in blocks]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if any(w.exitcode != 0 for w in workers):
            raise RuntimeError(f"a multiprocessing worker failed: {[w.exitcode for w in workers]}")
        final = shared[steps % 2]  # the arrays swap roles every step
        field = np.ndarray((n + 2, n + 2), dtype=np.float64, buffer=final.buf)[1:-1, 1:-1].copy()
        return {"field": field, "seconds": seconds.value, "compile_seconds": 0.0}
    finally:
        for s in shared:
            s.close()
            s.unlink()
