"""Devito: the case as a finite-difference DSL program, written the way Devito's tutorials write
one (examples/userapi/01_dsl and 06_sparse_operations, examples/mpi/overview):

* a ``Grid`` of N x N points with spacing 1 (float64), and a ``TimeFunction`` u on it with
  ``space_order=2``: its one-point halo is never written outside MPI, so it stays 0 — the
  study's Dirichlet halo;
* the update as one ``Eq(u.forward, ...)`` in the study's form,
  0.5 * (u + 0.25 * (W + E + S + N));
* the three sources as a ``SparseTimeFunction`` whose coordinates sit exactly on grid points,
  injected into u.forward after the update (``src.inject``), ``energy`` per point per step;
* one ``Operator`` that runs every time step in generated C: plain C (``devito``), C with
  OpenMP (``devito-openmp``), or under MPI with ``DEVITO_MPI=1`` (``run_mpi``), where Devito
  decomposes the grid itself and exchanges the halo.

Axes: Devito's last dimension is the contiguous one, so its (x, y) are our (j, i).

Arithmetic: SymPy multiplies the constants out, 0.125 * (S + W + E + N) + 0.5 * u, which alone
changes no bit (scaling by a power of two is exact), but it sums the four neighbours in its own
canonical order, Devito compiles with -ffast-math and flushes denormals to zero
(``avoid_denormals``): the final field is not the reference bit for bit once roundings start
to matter (more than about 15 steps), and the comparison harness checks heat, L2 and max to
1e-12 relative instead. Neither ``opt="noop"`` nor DEVITO_SAFE_MATH=1 restores the study's
order (both tried: the fields still differ in the last bit).

Timing: ``seconds`` is ``op.apply`` over all steps; ``compile_seconds`` is building the
Operator (symbolic processing) plus its JIT compilation (``op.cfunction``; Devito caches the
shared object across processes in its jit-cache folder).
"""

from __future__ import annotations

import time

import numpy as np

from case import serial_only, sources


def _quiet() -> None:
    """Devito logs every apply at INFO; the harness wants stdout for its JSON."""
    from devito import configuration

    configuration["log-level"] = "WARNING"


def operator(n: int, steps: int, energy: float, language: str, comm=None):
    """The Operator for the case and its TimeFunction u: (op, u). language: "C" or "openmp"."""
    from devito import Eq, Grid, Operator, SparseTimeFunction, TimeFunction

    _quiet()
    extra = {} if comm is None else {"comm": comm}
    grid = Grid(shape=(n, n), extent=(n - 1.0, n - 1.0), dtype=np.float64, **extra)
    x, y = grid.dimensions  # x is our j (rows), y our i (contiguous)
    t = grid.stepping_dim
    u = TimeFunction(name="u", grid=grid, space_order=2, time_order=1)
    update = Eq(u.forward, 0.5 * (u[t, x, y] + 0.25 * (u[t, x, y - 1] + u[t, x, y + 1]
                                                       + u[t, x - 1, y] + u[t, x + 1, y])))
    # Sources exactly on grid points: the injection's bilinear weights are 1 and 0, exactly.
    coordinates = np.array(sources(n), dtype=np.float64)
    src = SparseTimeFunction(name="src", grid=grid, npoint=len(coordinates), nt=steps,
                             coordinates=coordinates)
    src.data[:] = energy
    op = Operator([update] + src.inject(field=u.forward, expr=src), language=language,
                  name="HeatStencil")
    return op, u


def _arguments(op, steps: int, threads: int) -> dict:
    """apply() arguments: all steps, and the thread count where the Operator has one."""
    args = {"time_m": 0, "time_M": steps - 1}
    names = {p.name for p in op.parameters}
    for name in ("nthreads", "nthreads_nonaffine"):
        if name in names:
            args[name] = threads
    return args


def _run(n: int, steps: int, energy: float, threads: int, language: str) -> dict:
    start = time.perf_counter()
    op, u = operator(n, steps, energy, language)
    op.cfunction  # JIT-compiles (or loads the cached shared object)
    compile_seconds = time.perf_counter() - start
    args = _arguments(op, steps, threads)
    start = time.perf_counter()
    op.apply(**args)
    seconds = time.perf_counter() - start
    # The last step wrote buffer (steps - 1 + 1) % 2.
    field = np.ascontiguousarray(u.data[steps % 2], dtype=np.float64).copy()
    return {"field": field, "seconds": seconds, "compile_seconds": compile_seconds}


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The case with Devito's plain C Operator, one thread."""
    serial_only("devito", threads)
    return _run(n, steps, energy, 1, "C")


def run_openmp(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The case with Devito's OpenMP Operator on `threads` threads."""
    if threads < 1:
        raise ValueError(f"threads = {threads}: need at least 1")
    return _run(n, steps, energy, threads, "openmp")


def run_mpi(n: int, steps: int, energy: float, threads: int = 1, comm=None) -> dict | None:
    """The case under MPI the Devito way: every rank builds the same Grid and Operator, Devito
    splits the grid and exchanges halos (DEVITO_MPI=1 must be set before Python starts, as
    Devito's MPI tutorial says). Rank 0 gets dict(field, seconds (slowest rank), compile_seconds,
    dims); the others None. threads > 1 uses the OpenMP Operator on each rank."""
    from devito import configuration
    from mpi4py import MPI

    if not configuration["mpi"]:
        raise RuntimeError("Devito's MPI mode is off: run with DEVITO_MPI=1 in the environment "
                           "(e.g. DEVITO_MPI=1 mpiexec -n 4 python ...)")
    comm = MPI.COMM_WORLD if comm is None else comm
    start = time.perf_counter()
    op, u = operator(n, steps, energy, "C" if threads == 1 else "openmp", comm=comm)
    op.cfunction
    compile_seconds = time.perf_counter() - start
    args = _arguments(op, steps, threads)
    comm.Barrier()
    start = time.perf_counter()
    op.apply(**args)
    seconds = time.perf_counter() - start
    seconds = comm.reduce(seconds, op=MPI.MAX, root=0)
    compile_seconds = comm.reduce(compile_seconds, op=MPI.MAX, root=0)
    dims = list(u.grid.distributor.topology)
    gathered = u.data_gather(rank=0)  # collective: every rank calls it
    if comm.rank != 0:
        return None
    field = np.ascontiguousarray(np.asarray(gathered)[steps % 2], dtype=np.float64).copy()
    return {"field": field, "seconds": seconds, "compile_seconds": compile_seconds,
            "dims": dims}
