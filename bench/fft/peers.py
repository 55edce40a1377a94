"""The reference study's own FFT libraries, timed on the pair `calor bench fft` times.

Each measurement is a 3D real-to-complex transform followed by its complex-to-real inverse on
an n^3 float64 field, in place as calor does it (the real field lives in the complex array, x
padded to 2 (n/2 + 1) doubles) or as close as the library allows, timed best of --reps after one
warm-up pair. Before any time is reported, the round trip is checked: c2r(r2c(x)) / N must give
x back within 1e-12 at every point (N = n^3); a failed check reports an error and no time.

  pyFFTW      pyfftw.FFTW objects on one aligned complex array and its real view (in place),
              executed directly (FFTW's own execute, no copy and no normalisation), at each
              --threads count. Planning (both plans) is timed separately.
  mpi4py-fft  mpi4py_fft.PFFT with a slab decomposition (slab=True: z split over the ranks)
              and its FFTW backend, under mpiexec at each --ranks count, one thread per rank;
              forward and backward on PFFT's own arrays with normalize=False. Planning is the
              PFFT constructor (its plans and arrays), the slowest rank's.

Both with FFTW_ESTIMATE and FFTW_MEASURE (--planners). GFLOP/s counts 5 N log2 N per pair
(5 N log2 N per complex transform, halved for real data, twice), as calor does.

One JSON object per line on stdout:
  {"peer": "pyFFTW", "n": 64, "ranks": 1, "threads": 2, "planner": "estimate",
   "plan_seconds": ..., "pair_seconds": ..., "worst_seconds": ..., "gflops": ...,
   "roundtrip_error": 4.4e-16, "roundtrip_ok": true, ...}
  {"peer": "mpi4py-fft", ..., "roundtrip_ok": false, "error": "round trip ..."}   no time
  {"peer": "mpi4py-fft", "skipped": "why"}          not installed, no mpiexec: never a failure

    python bench/fft/peers.py --sizes 64,128 --threads 1,2 --ranks 1,2,4
    python bench/fft/peers.py --sizes 16 --peers pyfftw --planners estimate --reps 2
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import time
from typing import Callable

import numpy as np

PEERS = {"pyfftw": "pyFFTW", "mpi4py-fft": "mpi4py-fft"}
PLANNERS = {"estimate": "FFTW_ESTIMATE", "measure": "FFTW_MEASURE"}
TOLERANCE = 1e-12


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def field_value(rows: np.ndarray, n: int) -> np.ndarray:
    """calor's test field, sin(0.001 row + 0.37 i) + 0.5 with row = z n + y and i = x, for the
    given global rows (any shape): an array of shape rows.shape + (n,)."""
    return np.sin(0.001 * rows[..., None] + 0.37 * np.arange(n)) + 0.5


def plane_blocks(real: np.ndarray, first_plane: int, n: int, planes: int = 8):
    """(global rows, the local z-planes they fill) in blocks of a few planes (little memory)."""
    for z in range(0, real.shape[0], planes):
        block = real[z:z + planes]
        zz = first_plane + z + np.arange(block.shape[0])
        yield zz[:, None] * n + np.arange(n), block


def fill(real: np.ndarray, first_plane: int, n: int) -> None:
    for rows, block in plane_blocks(real, first_plane, n):
        block[...] = field_value(rows, n)


def roundtrip_error(real: np.ndarray, first_plane: int, n: int) -> float:
    """Largest |c2r(r2c(x)) / N - x| over this process's planes (0 if it holds none)."""
    scale = 1.0 / float(n) ** 3
    err = 0.0
    for rows, block in plane_blocks(real, first_plane, n):
        err = max(err, float(np.max(np.abs(block * scale - field_value(rows, n)), initial=0.0)))
    return err


def flops(n: int) -> float:
    points = float(n) ** 3
    return 5.0 * points * math.log2(points)


def measure(pair: Callable[[], None], real: np.ndarray, first_plane: int, n: int, reps: int,
            slowest: Callable[[float], float] = lambda v: v,
            barrier: Callable[[], None] = lambda: None) -> dict:
    """Fills `real` (this process's z-planes of the field), runs one pair and checks the round
    trip, then times `reps` pairs from a common start (the slowest process's time each).
    Returns the timing fields of a record, or an error field if the round trip fails."""
    fill(real, first_plane, n)
    pair()
    err = slowest(roundtrip_error(real, first_plane, n))
    if not err <= TOLERANCE:  # NaN fails too
        return {"roundtrip_error": err, "roundtrip_ok": False,
                "error": f"round trip c2r(r2c(x))/N differs from x by {err:.3e} > {TOLERANCE:g}:"
                         " no time reported"}
    scale = 1.0 / float(n) ** 3
    times = []
    for _ in range(reps):
        real *= scale  # back to the field's scale (untimed): many pairs would overflow
        barrier()
        t0 = time.perf_counter()
        pair()
        times.append(slowest(time.perf_counter() - t0))
    best = min(times)
    return {"pair_seconds": best, "worst_seconds": max(times),
            "gflops": flops(n) / best / 1e9, "roundtrip_error": err, "roundtrip_ok": True}


# ---- pyFFTW: in this process, threads -----------------------------------------------------

def pyfftw_runs(sizes: list[int], planners: list[str], threads: list[int], reps: int) -> None:
    try:
        import pyfftw
    except Exception as e:  # ImportError, or a broken build
        emit({"peer": "pyFFTW", "skipped": f"cannot import pyfftw in {sys.executable} ({e}); "
                                           "install requirements.txt into the project's .venv"})
        return
    for n in sizes:
        for planner in planners:
            for th in threads:
                record = {"peer": "pyFFTW", "version": pyfftw.__version__, "n": n, "ranks": 1,
                          "threads": th, "planner": planner, "oversubscribed": False}
                try:
                    # In place: the real field is a view of the complex array, x padded.
                    c = pyfftw.empty_aligned((n, n, n // 2 + 1), dtype=np.complex128)
                    real = c.view(np.float64)[..., :n]
                    flags = (PLANNERS[planner], "FFTW_DESTROY_INPUT")
                    t0 = time.perf_counter()
                    fwd = pyfftw.FFTW(real, c, axes=(0, 1, 2), direction="FFTW_FORWARD",
                                      flags=flags, threads=th)
                    bwd = pyfftw.FFTW(c, real, axes=(0, 1, 2), direction="FFTW_BACKWARD",
                                      flags=flags, threads=th)
                    plan = time.perf_counter() - t0

                    def pair(fwd=fwd, bwd=bwd) -> None:
                        fwd.execute()
                        bwd.execute()

                    timing = measure(pair, real, 0, n, reps)
                    if timing["roundtrip_ok"]:
                        record["plan_seconds"] = plan
                    record.update(timing)
                    del fwd, bwd, c, real
                except Exception as e:  # e.g. MemoryError at a large n
                    record["error"] = f"{type(e).__name__}: {e}"
                emit(record)


# ---- mpi4py-fft: under mpiexec, ranks ------------------------------------------------------

def mpi_worker(sizes: list[int], planners: list[str], reps: int) -> int:
    """Runs under mpiexec: every size and planner at this job's rank count; rank 0 prints."""
    try:
        from mpi4py import MPI
        import mpi4py_fft
        from mpi4py_fft import PFFT
    except Exception as e:
        if os.environ.get("OMPI_COMM_WORLD_RANK", "0") == "0":
            emit({"peer": "mpi4py-fft", "skipped": f"cannot import mpi4py_fft in "
                                                   f"{sys.executable} ({e})"})
        return 0
    comm = MPI.COMM_WORLD

    def slowest(v: float) -> float:
        return comm.allreduce(v, op=MPI.MAX)

    for n in sizes:
        for planner in planners:
            record = {"peer": "mpi4py-fft", "version": mpi4py_fft.__version__, "n": n,
                      "ranks": comm.size, "threads": 1, "planner": planner}
            comm.Barrier()
            t0 = time.perf_counter()
            fft = PFFT(comm, (n, n, n), slab=True, dtype=np.float64, backend="fftw",
                       planner_effort=PLANNERS[planner], threads=1)
            plan = slowest(time.perf_counter() - t0)
            # PFFT's own arrays: backward writes the forward's input, forward's output is the
            # backward's input (no copies); normalize=False as FFTW's pair.
            real = fft.forward.input_array
            assert fft.backward.output_array is real
            first_plane = fft.local_slice(False)[0].start

            def pair(fft=fft) -> None:
                fft.forward(normalize=False)
                fft.backward(normalize=False)

            timing = measure(pair, real, first_plane, n, reps, slowest, comm.Barrier)
            if timing["roundtrip_ok"]:
                record["plan_seconds"] = plan
            record.update(timing)
            if comm.rank == 0:
                emit(record)
            del fft, real
    return 0


def mpi4py_fft_runs(sizes: list[int], planners: list[str], ranks: list[int], reps: int,
                    timeout: float) -> None:
    missing = [m for m in ("mpi4py", "mpi4py_fft") if importlib.util.find_spec(m) is None]
    if missing:
        emit({"peer": "mpi4py-fft", "skipped": f"{' and '.join(missing)} not installed in "
                                               f"{sys.executable}'s environment; install "
                                               "requirements.txt into the project's .venv"})
        return
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        emit({"peer": "mpi4py-fft", "skipped": "no mpiexec on PATH (Open MPI: openmpi-bin)"})
        return
    cores = os.cpu_count() or 1
    for p in ranks:
        command = [mpiexec, "--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
        command += ["-n", str(p), "-x", "OMP_NUM_THREADS=1", sys.executable,
                    os.path.abspath(__file__), "--mpi-worker",
                    "--sizes", ",".join(map(str, sizes)), "--planners", ",".join(planners),
                    "--reps", str(reps)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            emit({"peer": "mpi4py-fft", "ranks": p, "error": f"no result in {timeout:g} s"})
            continue
        records = []
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        for record in records:
            if "skipped" in record:
                emit(record)
                return
            record["oversubscribed"] = p > cores
            emit(record)
        if done.returncode != 0 or not records:
            last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            emit({"peer": "mpi4py-fft", "ranks": p,
                  "error": f"mpiexec exited with status {done.returncode}: {last}"})


def int_list(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def name_list(choices) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [v.strip().lower() for v in text.split(",") if v.strip()]
        bad = [v for v in names if v not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return names
    return parse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int_list, default=[64, 128],
                    help="cube edges n, e.g. 64,128 (default 64,128)")
    ap.add_argument("--reps", type=int, default=5, help="timed pairs, best counts (default 5)")
    ap.add_argument("--planners", type=name_list(PLANNERS), default=["estimate", "measure"],
                    help="estimate,measure (default both)")
    ap.add_argument("--threads", type=int_list, default=[1, 2],
                    help="pyFFTW thread counts (default 1,2)")
    ap.add_argument("--ranks", type=int_list, default=[1, 2, 4],
                    help="mpi4py-fft rank counts under mpiexec (default 1,2,4)")
    ap.add_argument("--peers", type=name_list(PEERS), default=list(PEERS),
                    help="pyfftw,mpi4py-fft (default both)")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="seconds for one mpiexec run of every size and planner (default 3600)")
    ap.add_argument("--mpi-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    if args.mpi_worker:
        return mpi_worker(args.sizes, args.planners, args.reps)
    if "pyfftw" in args.peers:
        pyfftw_runs(args.sizes, args.planners, args.threads, args.reps)
    if "mpi4py-fft" in args.peers and args.ranks:
        mpi4py_fft_runs(args.sizes, args.planners, args.ranks, args.reps, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
