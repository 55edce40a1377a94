"""Pure Python: the grid as a list of rows, two nested loops, no NumPy in the time loop."""

from __future__ import annotations

import numpy as np

from case import serial_only, sources, timed


def step(aold: list[list[float]], anew: list[list[float]]) -> None:
    """anew's interior from aold's; both are lists of n + 2 rows of n + 2 floats."""
    for j in range(1, len(aold) - 1):
        # One lookup per row, not one per cell: the usual first thing to hoist in pure Python.
        below, row, above, out = aold[j - 1], aold[j], aold[j + 1], anew[j]
        for i in range(1, len(row) - 1):
            out[i] = 0.5 * (row[i] + 0.25 * (row[i - 1] + row[i + 1] + below[i] + above[i]))


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    serial_only("python", threads)
    aold = [[0.0] * (n + 2) for _ in range(n + 2)]
    anew = [[0.0] * (n + 2) for _ in range(n + 2)]
    cells = [(j + 1, i + 1) for j, i in sources(n)]

    def loop() -> list[list[float]]:
        old, new = aold, anew
        for _ in range(steps):
            step(old, new)
            for j, i in cells:
                new[j][i] += energy
            old, new = new, old
        return old

    final, seconds = timed(loop)
    field = np.array(final, dtype=np.float64)[1:-1, 1:-1].copy()
    return {"field": field, "seconds": seconds, "compile_seconds": 0.0}
