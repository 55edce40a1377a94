"""Runs one registry approach on the stencil case in this process, --repeat times, and prints
one JSON object: every repetition's time-loop seconds, the first repetition's compile (JIT)
seconds, the thread and rank counts, and where the final field was saved. compare.py starts it
once per measurement, so that no approach shares a process with another (Devito and
pystencils' -Ofast code switch the CPU to flush denormals to zero for the whole process).

    python bench/compare/worker.py --approach numba --n 480 --steps 50 --repeat 3 \\
        --save-npy /tmp/numba.npy
    mpiexec -n 4 python bench/compare/worker.py --mpi --approach numpy --n 480 --steps 50

With --mpi it runs under mpiexec: the approach module's own run_mpi(n, steps, energy, threads)
if it has one (Devito decomposes the grid itself), else bench/approaches/mpi_driver.py's
decomposition with the approach's NumPy-array step. Rank 0 prints and saves.
"""

from __future__ import annotations

import argparse
import importlib
import json
import runpy
import sys
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
APPROACHES_DIR = HERE.parent / "approaches"
sys.path.insert(0, str(APPROACHES_DIR))

import approaches  # noqa: E402


def load_extra_registry(path: Path | None) -> None:
    """Adds the approaches a test registry file defines (EXTRA: list of approaches.Approach)
    to approaches.APPROACHES; the file's folder goes on sys.path so its modules import."""
    if path is None:
        return
    path = Path(path).resolve()
    sys.path.insert(0, str(path.parent))
    extra = runpy.run_path(str(path)).get("EXTRA", [])
    for approach in extra:
        approaches.APPROACHES[approach.name] = approach


def has_own_mpi(approach: approaches.Approach) -> bool:
    """Whether the approach's module defines run_mpi (checked without importing it)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(approach.module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return False
    tree = ast.parse(Path(spec.origin).read_text())
    return any(isinstance(node, ast.FunctionDef) and node.name == "run_mpi" for node in tree.body)


def runs_under_mpi(approach: approaches.Approach) -> bool:
    """Whether the approach has an MPI version: its own run_mpi, or a step for mpi_driver."""
    return approach.prepare_function is not None or has_own_mpi(approach)


def sequential(args: argparse.Namespace) -> int:
    approach = approaches.get(args.approach)
    results = [approach.run(args.n, args.steps, args.energy, args.threads)
               for _ in range(args.repeat)]
    return finish(args, results, ranks=0)


def distributed(args: argparse.Namespace) -> int:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    try:
        approach = approaches.get(args.approach)
        module = importlib.import_module(approach.module)
        if hasattr(module, "run_mpi"):
            def once():
                return module.run_mpi(args.n, args.steps, args.energy, args.threads)
        elif approach.prepare_function is not None:
            import mpi_driver

            prepare = approach.preparer()

            def once():
                return mpi_driver.run(prepare, args.n, args.steps, args.energy, args.threads)
        else:
            raise ValueError(f"{approach.name} has no MPI version (no run_mpi, no step)")
        results = [once() for _ in range(args.repeat)]
    except Exception:
        # One rank's error would leave the others waiting in a collective for ever.
        traceback.print_exc()
        sys.stderr.flush()
        comm.Abort(1)
        return 1
    if comm.rank != 0:
        return 0
    return finish(args, results, ranks=comm.size)


def finish(args: argparse.Namespace, results: list[dict], ranks: int) -> int:
    """Prints the JSON record and saves the last repetition's field."""
    field = results[-1]["field"]
    if args.save_npy:
        np.save(args.save_npy, np.ascontiguousarray(field, dtype=np.float64))
    record = {"approach": args.approach, "n": args.n, "steps": args.steps,
              "energy": args.energy, "threads": args.threads, "ranks": ranks,
              "dims": results[-1].get("dims"),
              "seconds": [float(r["seconds"]) for r in results],
              "compile_seconds": float(results[0]["compile_seconds"]),
              "field": str(args.save_npy) if args.save_npy else None}
    # The GPU rows time their kernels and their whole run (with the copies) apart too.
    for key in ("kernel_seconds", "end_to_end_seconds"):
        if all(key in r for r in results):
            record[key] = [float(r[key]) for r in results]
    print(json.dumps(record), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--approach", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--energy", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--save-npy", type=Path)
    p.add_argument("--mpi", action="store_true", help="run under mpiexec")
    p.add_argument("--extra-registry", type=Path, help="tests only: a Python file defining "
                   "EXTRA, a list of approaches.Approach to add to the registry")
    args = p.parse_args(argv)
    load_extra_registry(args.extra_registry)
    return distributed(args) if args.mpi else sequential(args)


if __name__ == "__main__":
    sys.exit(main())
