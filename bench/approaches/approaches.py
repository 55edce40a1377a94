"""The registry of approaches to the stencil case, and the command-line pieces that
run_approach.py and mpi_driver.py share. Adding an approach is one entry in APPROACHES:
a module with run(n, steps, energy, threads=1) -> dict(field, seconds, compile_seconds),
and, to run under MPI too, prepare(threads) -> (step(aold, anew), compile_seconds)."""

from __future__ import annotations

import argparse
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from case import ENERGY, N, STEPS, Prepare, summary


@dataclass(frozen=True)
class Approach:
    """One way to compute the case: which module, and which of its functions."""

    name: str
    module: str
    about: str
    run_function: str = "run"
    #: The module's step preparer on NumPy arrays (what MPI needs); None if it has none.
    prepare_function: str | None = "prepare"
    threaded: bool = False

    def run(self, n: int, steps: int, energy: float, threads: int = 1) -> dict:
        """Runs the case: dict(field, seconds, compile_seconds)."""
        return getattr(importlib.import_module(self.module), self.run_function)(
            n, steps, energy, threads)

    def preparer(self) -> Prepare:
        """The function that prepares this approach's step on NumPy arrays."""
        if self.prepare_function is None:
            raise ValueError(f"{self.name} has no step on NumPy arrays, so it cannot run "
                             f"under MPI; these can: {', '.join(distributed())}")
        return getattr(importlib.import_module(self.module), self.prepare_function)


APPROACHES = {approach.name: approach for approach in [
    Approach("python", "python_loops", "pure Python: lists of rows, nested loops",
             prepare_function=None),
    Approach("numpy", "numpy_slicing", "NumPy: whole-array expression on shifted slices"),
    Approach("numba", "numba_njit", "Numba @njit loops, one thread"),
    Approach("numba-parallel", "numba_njit", "Numba @njit(parallel=True), prange over rows",
             run_function="run_parallel", prepare_function="prepare_parallel", threaded=True),
    Approach("cython", "cython_typed", "Cython: typed memoryviews, -O3 -ffp-contract=off"),
    Approach("f2py", "f2py_fortran", "Fortran step via numpy.f2py (meson), -O3 -ffp-contract=off"),
    Approach("ctypes", "ctypes_c", "C step (cc -O3 -ffp-contract=off) called through ctypes"),
    Approach("futures", "futures_threads", "concurrent.futures: NumPy row blocks on a "
             "ThreadPoolExecutor (the modern Parallel Python)", threaded=True),
    Approach("multiprocessing", "multiprocessing_shm", "multiprocessing: row blocks in "
             "processes over shared memory, a barrier per step", prepare_function=None,
             threaded=True),
    Approach("dask-array", "dask_array", "Dask Array: map_overlap over row chunks, threaded "
             "scheduler", threaded=True),
    Approach("dask-distributed", "dask_array", "Dask Array: the same on a distributed "
             "LocalCluster", run_function="run_distributed", prepare_function=None,
             threaded=True),
    # Modern peers (bench/compare runs them beside the above). Devito decomposes the grid
    # itself under MPI (devito_dsl.run_mpi, DEVITO_MPI=1), so it has no mpi_driver step.
    Approach("devito", "devito_dsl", "Devito: Eq on a TimeFunction, SparseTimeFunction sources, "
             "C Operator", prepare_function=None),
    Approach("devito-openmp", "devito_dsl", "Devito: the same Operator generated with OpenMP",
             run_function="run_openmp", prepare_function=None, threaded=True),
    Approach("pystencils", "pystencils_kernel", "pystencils: Assignment on Fields, "
             "create_kernel, vectorised C"),
    Approach("pystencils-openmp", "pystencils_kernel", "pystencils: the same kernel with OpenMP",
             run_function="run_openmp", prepare_function="prepare_openmp", threaded=True),
]}

#: Registry hooks that are not registered here, and why (bench/compare shows them as skipped).
UNAVAILABLE: dict[str, str] = {}


def _hook_calor_python() -> None:
    """calor's own Python module, when it is built: registered only if `import calor` works."""
    from calor_python import importable

    ok, why = importable()
    if ok:
        APPROACHES["calor-python"] = Approach(
            "calor-python", "calor_python", "calor's Python module: calor.Simulation, backend "
            "auto", prepare_function=None, threaded=True)
    else:
        UNAVAILABLE["calor-python"] = why


_hook_calor_python()


def get(name: str) -> Approach:
    """The approach called `name`; the error lists the others."""
    try:
        return APPROACHES[name]
    except KeyError:
        raise ValueError(f"no approach {name!r}; there are: {', '.join(APPROACHES)}") from None


def distributed() -> list[str]:
    """The approaches that run under MPI (mpi_driver.py)."""
    return [name for name, a in APPROACHES.items() if a.prepare_function is not None]


def parser(description: str, mpi: bool = False) -> argparse.ArgumentParser:
    """The options of run_approach.py and, with mpi, of mpi_driver.py."""
    names = distributed() if mpi else list(APPROACHES)
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--approach", required=True, choices=names)
    p.add_argument("--n", type=int, default=N, help=f"interior cells per axis (default {N})")
    p.add_argument("--steps", type=int, default=STEPS, help=f"default {STEPS}")
    p.add_argument("--energy", type=float, default=ENERGY, help=f"per source per step "
                   f"(default {ENERGY})")
    p.add_argument("--threads", type=int, default=1, help="threads (per rank); 1 unless the "
                   "approach is threaded")
    p.add_argument("--out", type=Path, help="also write the JSON result to this file")
    p.add_argument("--save-npy", type=Path, help="write the final n x n interior as .npy")
    return p


def report(args: argparse.Namespace, result: dict, ranks: int = 1) -> dict:
    """Prints the result as one JSON object (and writes --out and --save-npy)."""
    field = result["field"]
    record = {"name": args.approach, "n": args.n, "steps": args.steps, "energy": args.energy,
              "threads": args.threads, "ranks": ranks, "dims": result.get("dims", [1, 1]),
              "seconds": result["seconds"], "compile_seconds": result["compile_seconds"],
              **summary(field),
              "mlups": args.n * args.n * args.steps / result["seconds"] / 1e6
              if result["seconds"] > 0 else None}
    text = json.dumps(record)
    print(text, flush=True)
    if args.out:
        args.out.write_text(text + "\n")
    if args.save_npy:
        np.save(args.save_npy, field)
    return record
