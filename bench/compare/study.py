"""The published comparison study's times (Santos Dumont supercomputer, seconds, N=4800,
500 steps), as given in issue 7: one row per approach, "seq" then MPI rank counts."""

from __future__ import annotations

#: Columns of the published table: the sequential program, then MPI ranks.
COLUMNS = ["seq", 1, 4, 9, 16, 36, 49, 64, 81]

#: Seconds per approach, in COLUMNS order.
TIMES = {
    "F90": [19.3, 21.9, 7.3, 6.2, 4.7, 2.1, 1.9, 1.2, 1.7],
    "F2Py": [18.9, 23.6, 7.5, 6.2, 4.6, 2.1, 1.6, 1.3, 1.0],
    "Cython": [24.0, 24.0, 7.5, 6.3, 4.7, 2.2, 1.7, 1.3, 2.1],
    "Numba (CPU)": [30.5, 30.5, 8.2, 6.3, 5.9, 3.2, 2.7, 1.8, 2.1],
    "Python": [212.4, 227.2, 64.7, 44.8, 33.5, 15.2, 10.4, 7.8, 6.7],
}

#: Which of our rows correspond to a published row (for side-by-side tables). The published
#: "Python" runs at 4800² x 500 / 212.4 s = 54 MLUP/s, the speed of NumPy array code rather than
#: of interpreted loops, so both our pure-Python and our NumPy rows are set beside it.
OURS = {"F90": ["fortran"], "F2Py": ["f2py"], "Cython": ["cython"], "Numba (CPU)": ["numba"],
        "Python": ["python", "numpy"]}


def speedups() -> dict[str, list[float]]:
    """Published speed-ups over the published sequential F90 time."""
    base = TIMES["F90"][0]
    return {name: [base / t for t in row] for name, row in TIMES.items()}
