"""The registry of approaches to the stencil case, and the command-line pieces that
run_approach.py and mpi_driver.py share. Adding an approach is one entry in APPROACHES:
a module with run(n, steps, energy, threads=1) -> dict(field, seconds, compile_seconds),
and, to run under MPI too, prepare(threads) -> (step(aold, anew), compile_seconds)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

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
    #: A threaded row that still gets MPI columns (one thread per rank) from its module's
    #: run_mpi: calor-python, which takes an mpi4py communicator.
    mpi_columns: bool = False
    #: Not the reference's bits: Devito and pystencils reorder the neighbour sum (SymPy's
    #: canonical order) and compile with -ffast-math, so their last bits differ (not their heat).
    reorders: bool = False

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
    Approach("ipyparallel", "ipyparallel_mpi", "ipyparallel: engines started under mpiexec, "
             "each running the mpi4py block version with the NumPy step (start-up reported "
             "as setup)", prepare_function=None, threaded=True),
    # Modern peers (bench/compare runs them beside the above). Devito decomposes the grid
    # itself under MPI (devito_dsl.run_mpi, DEVITO_MPI=1), so it has no mpi_driver step.
    Approach("devito", "devito_dsl", "Devito: Eq on a TimeFunction, SparseTimeFunction sources, "
             "C Operator", prepare_function=None, reorders=True),
    Approach("devito-openmp", "devito_dsl", "Devito: the same Operator generated with OpenMP",
             run_function="run_openmp", prepare_function=None, threaded=True, reorders=True),
    Approach("pystencils", "pystencils_kernel", "pystencils: Assignment on Fields, "
             "create_kernel, vectorised C", reorders=True),
    Approach("pystencils-openmp", "pystencils_kernel", "pystencils: the same kernel with OpenMP",
             run_function="run_openmp", prepare_function="prepare_openmp", threaded=True, reorders=True),
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
            "auto", prepare_function=None, threaded=True, mpi_columns=True)
    else:
        UNAVAILABLE["calor-python"] = why


_hook_calor_python()

#: The study's GPU approaches (issue 22), one thread on the host each. _hook_gpu registers them
#: only where they can run; elsewhere they are in UNAVAILABLE, "not run: ..." with the reason, so
#: that bench/compare lists them and the CPU tests never try them (tests/test_approaches_gpu.py
#: tests them without a device: Numba's CUDA simulator, NumPy arrays, nvcc and NVRTC).
GPU = {approach.name: approach for approach in [
    Approach("numba-cuda", "numba_cuda_kernel", "Numba-CUDA: @cuda.jit kernel, one thread per "
             "cell, sources fused, every operation explicitly rounded (no FMA); the fields stay "
             "on the device", prepare_function=None),
    Approach("numba-cuda-hostloop", "numba_cuda_kernel", "Numba-CUDA as the published study ran "
             "it: each step the kernel, then the field copied to the host, the energy added there "
             "by a Python loop, and copied back (those copies dominated the study's GPU time)",
             run_function="run_hostloop", prepare_function=None),
    Approach("cupy", "cupy_array", "CuPy: NumPy's slicing expression on device arrays, written "
             "array-module-agnostic (cupy.get_array_module)", prepare_function=None),
    Approach("cupy-rawkernel", "cupy_rawkernel", "CuPy RawKernel: stencil_kernel.cu compiled by "
             "NVRTC --fmad=false, sources fused", prepare_function=None),
    Approach("pycuda", "pycuda_kernel", "PyCUDA SourceModule: stencil_kernel.cu compiled by nvcc "
             "--fmad=false, sources fused", prepare_function=None),
]}
#: The package each GPU approach imports, and how to install it.
GPU_PACKAGES = {
    "numba-cuda": ("numba_cuda", "pip install -r requirements.txt"),
    "numba-cuda-hostloop": ("numba_cuda", "pip install -r requirements.txt"),
    "cupy": ("cupy", "pip install -r requirements.txt"),
    "cupy-rawkernel": ("cupy", "pip install -r requirements.txt"),
    "pycuda": ("pycuda", "pip install pycuda on a machine with CUDA and a GPU"),
}
#: What runs under Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1), and what its rows say.
SIMULATED = {"numba-cuda", "numba-cuda-hostloop"}
SIMULATED_ABOUT = ("; here under Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1): Python threads, "
                   "not a GPU, so its times mean nothing")


def gpu_rows(device: tuple[bool, str], simulated: bool,
             installed: Callable[[str], bool]) -> tuple[dict[str, Approach], dict[str, str]]:
    """The GPU approaches that can run, and why each other cannot ("not run: ..."), given the
    device check's answer, whether the CUDA simulator is on, and which packages are installed.
    Without a device every row says "not run: no GPU" first: that is what stops all of them."""
    runnable, not_run = {}, {}
    has_device, why = device
    for name, approach in GPU.items():
        package, how = GPU_PACKAGES[name]
        if simulated and name in SIMULATED and installed(package):
            runnable[name] = replace(approach, about=approach.about + SIMULATED_ABOUT)
        elif not has_device:
            not_run[name] = f"not run: no GPU ({why})"
        elif not installed(package):
            not_run[name] = f"not run: {package} is not installed ({how})"
        else:
            runnable[name] = approach
    return runnable, not_run


def is_simulated(name: str) -> bool:
    """Whether the registered row `name` runs under Numba's CUDA simulator, not on a GPU."""
    return name in APPROACHES and APPROACHES[name].about.endswith(SIMULATED_ABOUT)


def _hook_gpu() -> None:
    """Registers the GPU approaches that can run here; the others go to UNAVAILABLE."""
    import gpu

    runnable, not_run = gpu_rows(gpu.device_status(), gpu.simulated(),
                                 lambda package: importlib.util.find_spec(package) is not None)
    APPROACHES.update(runnable)
    UNAVAILABLE.update(not_run)


_hook_gpu()


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
