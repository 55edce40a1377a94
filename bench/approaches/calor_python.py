"""calor's own Python module (python/calor, built with ``pip install .``) on the case: the same
engine as the ``calor`` command line, stepped from Python without copies.

A hook: approaches.py registers ``calor-python`` only when ``import calor`` works, and records
why not otherwise (approaches.UNAVAILABLE), so that the tests and the comparison harness skip
it with that note instead of failing while the module is not built.

``seconds`` is Simulation.run(), the engine's own wall time for the steps; building the Problem
and the Simulation (allocation, first touch) is setup and is not timed; nothing is compiled at
run time, so ``compile_seconds`` is 0.
"""

from __future__ import annotations

import numpy as np

#: The engine's backend for this row: "auto" is what a user gets without asking.
BACKEND = "auto"


def importable() -> tuple[bool, str]:
    """Whether ``import calor`` works here, and if not, why (the exception, one line)."""
    try:
        import calor  # noqa: F401
    except Exception as error:  # a half-built module may fail with more than ImportError
        return False, (f"the calor Python module is not importable here ({type(error).__name__}: "
                       f"{error}); build it with `.venv/bin/pip install .` (pyproject.toml)")
    return True, ""


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil preset with calor.Simulation on `threads` threads."""
    import calor

    if threads < 1:
        raise ValueError(f"threads = {threads}: need at least 1")
    problem = calor.presets.stencil(n=n, steps=steps, energy=energy)
    simulation = calor.Simulation(problem, backend=BACKEND, threads=threads)
    seconds = simulation.run(progress=False)
    # sim.field is a view of (ny, nx) with x contiguous: our a[j, i] interior. Copy it out.
    field = np.array(simulation.field, dtype=np.float64, order="C", copy=True)
    return {"field": field, "seconds": float(seconds), "compile_seconds": 0.0}


def run_mpi(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The same under mpiexec: the module takes mpi4py's communicator and splits the grid over
    the ranks itself. Every rank returns; rank 0's dict has the gathered field, and seconds is
    the slowest rank's Simulation.run()."""
    import calor
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    problem = calor.presets.stencil(n=n, steps=steps, energy=energy)
    simulation = calor.Simulation(problem, backend=BACKEND, threads=threads, comm=comm)
    comm.Barrier()
    seconds = comm.reduce(float(simulation.run(progress=False)), op=MPI.MAX, root=0)
    field = simulation.gather()  # every rank takes part; rank 0 gets the array
    return {"field": field, "seconds": seconds, "compile_seconds": 0.0}
