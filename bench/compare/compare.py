"""The comparison study, reproduced on this machine in one invocation: every approach of the
registry (bench/approaches/approaches.py) sequentially and under MPI, the Fortran program,
and calor's own backends (CLI) and MPI runs, each checked against calor's reference field and
written out as results.json, results.csv, report.md (the study's three tables) and plots.

    .venv/bin/python bench/compare/compare.py --quick --out out/compare-quick   # < 3 minutes
    .venv/bin/python bench/compare/compare.py --extrapolate-python --out out/compare   # full

Every measurement runs in a process of its own (bench/compare/worker.py for the Python-land
approaches, the Fortran binary, the calor CLI, each under mpiexec for the MPI columns).
Sequential means one thread, enforced: OMP_NUM_THREADS=1, NUMBA_NUM_THREADS=1 (and the BLAS
variables) for every sequential and MPI run; threaded rows get OMP_NUM_THREADS=T,
NUMBA_NUM_THREADS=T. Times are the programs' own wall time of the time loop, after setup and
JIT (reported apart); best of --repeat, with the spread (worst - best) / best.

Verification: each measurement's final field is compared with the reference (calor run
--backend serial, else the Fortran program) by heat (plain sum), L2 norm and max, 1e-12
relative; one that misses is WRONG in every table and plot, never just timed. Identical bits
are reported too.

Pure Python takes about an hour at the study's size: above --python-limit cell updates it
runs only with --extrapolate-python, at a reduced size whose time is scaled by the ratio of
cell updates and labelled "extrapolated" wherever it appears (or --python-full runs it).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
APPROACHES_DIR = HERE.parent / "approaches"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(APPROACHES_DIR))

import approaches  # noqa: E402
import gpu  # noqa: E402
import machine  # noqa: E402
import report  # noqa: E402
from case import summary  # noqa: E402
from worker import load_extra_registry, runs_under_mpi  # noqa: E402

#: The relative tolerance on heat, L2 and max (the harness's rule for non-identical bits).
TOLERANCE = 1e-12
#: calor's CLI backends; the ones that use more than one thread.
CALOR_BACKENDS = ["serial", "simd", "threads", "tiled", "auto"]
CALOR_THREADED = {"threads", "tiled", "auto"}
#: The default rows, in table order ("fortran" and "calor" are not registry approaches).
DEFAULT_ORDER = ["fortran", "python", "numpy", "numba", "numba-parallel", "cython", "f2py",
                 "ctypes", "futures", "multiprocessing", "dask-array", "dask-distributed",
                 "devito", "devito-openmp", "pystencils", "pystencils-openmp", *approaches.GPU,
                 "calor-python", "calor"]
#: The GPU rows (numba-cuda, its host-loop variant, cupy, cupy-rawkernel, pycuda): --gpu-only.
GPU_ROWS = list(approaches.GPU)
#: What the Fortran row runs: sequentially, and in its MPI columns (where mpif90 is found).
FORTRAN_ABOUT = "bench/approaches/fortran/stencil.f90, sequential, -O3 -ffp-contract=off"
FORTRAN_MPI_ABOUT = ("; MPI: bench/approaches/fortran/stencil_mpi.f90 (mpif90, the same "
                     "flags, 2D Cartesian grid, Sendrecv halos)")
#: Environment of a run on `threads` threads (per process).
THREAD_VARIABLES = ["OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS"]


class JobError(Exception):
    """A measurement that did not produce a result: status "failed" or "timeout"."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Cell:
    """One measurement: one row (approach, threads) in one column (Seq or P ranks)."""

    row: str
    column: str  # "seq" or the rank count
    threads: int
    ranks: int  # 0: not under MPI
    n: int
    steps: int
    status: str = "pending"  # ok, WRONG, failed, timeout, skipped
    times: list[float] = field(default_factory=list)
    compile_seconds: float | None = None
    command: str = ""
    note: str = ""
    dims: list[int] | None = None
    summary: dict | None = None
    rel_errors: dict | None = None
    bits_identical: bool | None = None
    measured_n: int | None = None  # differs from n when extrapolated
    measured_steps: int | None = None
    extrapolated: bool = False
    load1: float | None = None
    #: Cores' worth of CPU that other processes (not this harness and its children) used
    #: while the cell ran: /proc/stat busy time minus our own, over the wall time.
    foreign_cores: float | None = None
    wall_seconds: float | None = None  # the whole process, start-up included
    #: GPU rows, per repetition: the kernels alone, and the whole run with the copies to the
    #: device and back (times holds the time loop, as for every row).
    kernel_times: list[float] = field(default_factory=list)
    end_to_end_times: list[float] = field(default_factory=list)

    # Derived in finish_cells():
    best: float | None = None
    median: float | None = None
    worst: float | None = None
    spread: float | None = None
    mlups: float | None = None
    roofline: float | None = None
    speedup: float | None = None
    efficiency: float | None = None
    oversubscribed: bool = False
    kernel_best: float | None = None  # GPU rows: the best kernel time and end-to-end time,
    end_to_end_best: float | None = None  # and the kernels' roofline fraction
    kernel_roofline: float | None = None


@dataclass
class Row:
    key: str
    label: str
    kind: str  # "fortran", "registry", "gpu" (a registry GPU approach), "calor"
    approach: str  # registry name, "fortran", or the calor backend
    threads: int
    about: str
    base: str  # key of the 1-thread row this one's efficiency is relative to
    cells: dict[str, Cell] = field(default_factory=dict)
    note: str = ""
    lines: str = ""  # lines of code: the kernel, and its parallel driver (the study's effort axis)


# ----------------------------------------------------------------------------- running


def thread_env(threads: int, extra: dict | None = None) -> dict:
    """This environment with every thread-count variable set to `threads`."""
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env.pop("DEVITO_MPI", None)
    env["DEVITO_LOGGING"] = "WARNING"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def execute(command: list[str], env: dict, timeout: float) -> str:
    """Runs a command; its stdout, or JobError with the tail of its output."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise JobError("timeout", f"no result within {timeout:.0f} s") from None
    except OSError as error:
        raise JobError("failed", str(error)) from None
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-12:]
        raise JobError("failed", f"exit status {done.returncode}: " + " | ".join(tail))
    return done.stdout


def last_json(stdout: str) -> dict:
    """The last line of stdout that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise JobError("failed", "no JSON result in the output: " + stdout[-500:])


def mpiexec_prefix(ranks: int) -> list[str]:
    """mpiexec for `ranks` local ranks (Open MPI; oversubscription allowed, for P > cores)."""
    return [shutil.which("mpiexec") or "mpiexec", "--oversubscribe", "--allow-run-as-root",
            "-n", str(ranks)]


class Runner:
    """Knows how to run each kind of row and where the binaries are."""

    def __init__(self, args: argparse.Namespace, scratch: Path):
        self.args = args
        self.scratch = scratch
        self.counter = 0

    def npy(self, tag: str) -> Path:
        self.counter += 1
        return self.scratch / f"{self.counter:03d}-{tag.replace(' ', '_').replace('/', '_')}.npy"

    # Python-land approaches, through worker.py.
    def registry(self, name: str, n: int, steps: int, threads: int, ranks: int,
                 repeat: int) -> tuple[dict, Path]:
        out = self.npy(f"{name}-{threads}t-{ranks}r")
        command = [sys.executable, str(HERE / "worker.py"), "--approach", name, "--n", str(n),
                   "--steps", str(steps), "--energy", repr(self.args.energy), "--threads",
                   str(threads), "--repeat", str(repeat), "--save-npy", str(out)]
        if self.args.extra_registry:
            command += ["--extra-registry", str(self.args.extra_registry)]
        extra = {}
        if ranks:
            command = mpiexec_prefix(ranks) + command + ["--mpi"]
            if name.startswith("devito"):
                extra["DEVITO_MPI"] = "1"
        record = last_json(execute(command, thread_env(threads, extra), self.args.timeout))
        return {"times": record["seconds"], "compile_seconds": record["compile_seconds"],
                "dims": record.get("dims"), "command": " ".join(command),
                "kernel_times": record.get("kernel_seconds", []),
                "end_to_end_times": record.get("end_to_end_seconds", [])}, out

    # The Fortran programs, once per repetition: stencil.f90 alone (it times its own loop with
    # system_clock), or stencil_mpi.f90 under mpiexec (MPI_Wtime, the slowest rank's loop).
    def fortran(self, n: int, steps: int, repeat: int, ranks: int = 0) -> tuple[dict, Path]:
        binary = self.args.fortran_mpi_binary if ranks else self.args.fortran_binary
        if binary is None:
            raise JobError("failed", "no MPI Fortran program: " + self.args.fortran_mpi_how
                           if ranks else "no Fortran program")
        prefix = mpiexec_prefix(ranks) if ranks else []
        raw = self.scratch / f"fortran-{n}-{steps}-{ranks}r.raw"
        times, dims = [], None
        for k in range(repeat):
            command = prefix + [str(binary), str(n), str(steps), repr(self.args.energy)]
            if k == 0:
                command.append(str(raw))
            stdout = execute(command, thread_env(1), self.args.timeout)
            words = stdout.split()
            try:
                seconds = float(words[words.index("seconds") + 1])
                mlups = float(words[words.index("mlups") + 1])
                if ranks:
                    dims = [int(w) for w in words[words.index("dims") + 1:][:2]]
            except (ValueError, IndexError):
                raise JobError("failed", "unexpected output: " + stdout[-300:]) from None
            if ranks:
                times.append(seconds)  # MPI_Wtime, printed to 1 ns
            else:
                # It prints seconds to 1 ms but MLUP/s to 0.1: the finer clock reading.
                times.append(n * n * steps / (mlups * 1e6) if mlups > 0 else seconds)
        out = self.npy(f"fortran-{n}-{ranks}r")
        np.save(out, np.fromfile(raw, dtype=np.float64).reshape(n, n))
        raw.unlink()
        return {"times": times, "compile_seconds": None, "dims": dims,
                "command": " ".join(command[:len(prefix) + 4])}, out

    # calor's CLI, alone or under mpiexec, once per repetition (its own loop timer).
    def calor(self, backend: str, n: int, steps: int, threads: int, ranks: int,
              repeat: int) -> tuple[dict, Path]:
        out = self.npy(f"calor-{backend}-{threads}t-{ranks}r")
        base = [str(self.args.calor), "run", "--preset", "stencil", "--n", str(n), "--steps",
                str(steps), "--energy", repr(self.args.energy), "--backend", backend,
                "--threads", str(threads), "--json", "--no-progress"]
        prefix = mpiexec_prefix(ranks) if ranks else []
        times, reported = [], {}
        for k in range(repeat):
            command = prefix + base + (["--save-npy", str(out)] if k == 0 else [])
            reported = last_json(execute(command, thread_env(threads), self.args.timeout))
            times.append(float(reported["seconds"]))
        note = ""
        if reported.get("backend") and reported["backend"] != backend:
            note = f"auto chose {reported['backend']}"
        return {"times": times, "compile_seconds": None, "dims": None,
                "command": " ".join(prefix + base), "note": note,
                "threads_reported": reported.get("threads")}, out


# ----------------------------------------------------------------------------- checking


class Reference:
    """The reference field at one size and its heat, L2 and max."""

    def __init__(self, field: np.ndarray, source: str):
        self.field = field
        self.summary = summary(field)
        self.source = source


def verify(cell: Cell, path: Path, reference: Reference) -> None:
    """Fills the cell's summary, relative errors and bit identity; WRONG if off by more than
    TOLERANCE in heat, L2 or max, or of the wrong shape, or not finite."""
    got = np.load(path)
    cell.bits_identical = bool(got.shape == reference.field.shape and np.array_equal(
        np.ascontiguousarray(got, dtype=np.float64).view(np.uint64),
        reference.field.view(np.uint64)))
    if got.shape != reference.field.shape:
        cell.status, cell.note = "WRONG", f"field shape {got.shape}, expected " \
                                          f"{reference.field.shape}"
        return
    cell.summary = summary(got)
    cell.rel_errors = {}
    for key, want in reference.summary.items():
        have = cell.summary[key]
        error = abs(have - want) / abs(want) if want != 0 else abs(have - want)
        cell.rel_errors[key] = error if math.isfinite(error) else float("inf")
    good = all(e <= TOLERANCE for e in cell.rel_errors.values())
    cell.status = "ok" if good else "WRONG"
    if not good:
        worst = max(cell.rel_errors, key=cell.rel_errors.get)
        cell.note = (f"{worst} off by {cell.rel_errors[worst]:.1e} relative to the reference "
                     f"(tolerance {TOLERANCE:g})")


# ----------------------------------------------------------------------------- planning


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--size", "--n", dest="size", type=int, help="N, cells per axis "
                   "(default 4800; 480 with --quick)")
    p.add_argument("--steps", type=int, help="time steps (default 500; 50 with --quick)")
    p.add_argument("--energy", type=float, default=1.0)
    p.add_argument("--approaches", help="comma-separated rows to run, from: "
                   + ", ".join(DEFAULT_ORDER) + " (calor = its CLI backends and MPI runs); "
                   "default all")
    p.add_argument("--gpu-only", action="store_true", help="only the GPU rows ("
                   + ", ".join(GPU_ROWS) + "), without MPI columns, and the device's copy "
                   "bandwidth; rows that cannot run here say why")
    p.add_argument("--ranks", help="MPI rank counts, comma-separated (default 1,2,4); "
                   "'none' for no MPI columns")
    p.add_argument("--threads", type=int, default=machine.cores(),
                   help="the 'all threads' count for threaded rows (default: this process's "
                   "cores)")
    p.add_argument("--repeat", type=int, help="repetitions per measurement, best reported "
                   "(default 3; 1 with --quick)")
    p.add_argument("--quick", action="store_true", help="N=480, 50 steps, 1 repetition, ranks "
                   "1,2: a CI-sized run")
    p.add_argument("--out", type=Path, help="output folder (default out/compare, or "
                   "out/compare-quick with --quick)")
    p.add_argument("--calor", type=Path, default=ROOT / "build" / "bin" / "calor",
                   help="the calor binary (default build/bin/calor)")
    p.add_argument("--fortran", type=Path, default=ROOT / "build" / "bin" /
                   "calor_fortran_stencil", help="the Fortran program (default "
                   "build/bin/calor_fortran_stencil; else built from "
                   "bench/approaches/fortran/stencil.f90 with gfortran -O3 -ffp-contract=off)")
    p.add_argument("--calor-backends", default=",".join(CALOR_BACKENDS),
                   help="calor CLI backends to run (default all)")
    p.add_argument("--extrapolate-python", action="store_true", help="run pure Python at a "
                   "reduced size when the case exceeds --python-limit, and scale its time "
                   "(labelled extrapolated)")
    p.add_argument("--python-full", action="store_true", help="run pure Python at full size "
                   "whatever it costs")
    p.add_argument("--python-limit", type=float, default=2e7, help="cell updates (N*N*steps) "
                   "above which pure Python is not run at full size (default 2e7)")
    p.add_argument("--python-size", type=int, help="N of the reduced pure-Python run "
                   "(default N/5)")
    p.add_argument("--python-steps", type=int, help="steps of the reduced pure-Python run "
                   "(default steps/10)")
    p.add_argument("--bandwidth", choices=["numpy", "calor"], default="numpy",
                   help="how to measure the copy bandwidth (default: a NumPy copy here)")
    p.add_argument("--timeout", type=float, help="seconds per measurement process (default "
                   "3600; 300 with --quick)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--extra-registry", type=Path, help="tests only: a Python file defining "
                   "EXTRA, a list of approaches.Approach added to the registry")
    p.add_argument("--update", type=Path, metavar="DIR", help="measure again the --rows of an "
                   "earlier run in DIR (e.g. ones disturbed by other work on the machine), "
                   "with that run's case, repetitions and bandwidth, and rewrite DIR's outputs; "
                   "the update is recorded in results.json")
    p.add_argument("--rows", help="with --update: comma-separated row keys, as in "
                   "results.csv (e.g. calor-tiled@2,calor-auto@2), each the whole row with "
                   "the columns planned for it now; KEY:COLUMN for one cell only (e.g. "
                   "fortran:2, the column as in results.csv), the row's other cells kept")
    args = p.parse_args(argv)
    if args.update:
        if not args.rows:
            p.error("--update needs --rows")
        previous = json.loads((args.update / "results.json").read_text())
        case = previous["case"]
        args.size, args.steps, args.energy = case["n"], case["steps"], case["energy"]
        args.repeat, args.threads, args.quick = case["repeat"], case["all_threads"], case["quick"]
        args.ranks = ",".join(str(r) for r in case["ranks"]) or "none"
        args.out = args.update
        args.previous = previous
        args.row_entries = [k.strip() for k in args.rows.split(",") if k.strip()]
        # Row key -> the columns to measure again (None: the whole row).
        args.row_columns = {}
        for entry in args.row_entries:
            key, _, column = entry.partition(":")
            if not column:
                args.row_columns[key] = None
            elif args.row_columns.get(key, set()) is not None:
                args.row_columns.setdefault(key, set()).add(column)
        args.row_keys = list(args.row_columns)
        known_rows = {row["key"] for row in previous["rows"]}
        missing = [k for k in args.row_keys if k not in known_rows]
        if missing:
            p.error(f"--rows: {missing} not in {args.update}/results.json; there are "
                    f"{sorted(known_rows)}")
    else:
        args.previous = None

    args.size = args.size or (480 if args.quick else 4800)
    args.steps = args.steps or (50 if args.quick else 500)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.timeout = args.timeout or (300.0 if args.quick else 3600.0)
    args.out = args.out or ROOT / "out" / ("compare-quick" if args.quick else "compare")
    if args.gpu_only:
        if args.approaches or args.update:
            p.error("--gpu-only chooses the rows itself: not with --approaches or --update")
        args.approaches = ",".join(GPU_ROWS)
        args.ranks = args.ranks or "none"
    if args.ranks is None:
        args.ranks = "1,2" if args.quick else "1,2,4"
    args.rank_counts = [] if args.ranks.strip().lower() in ("", "none", "0") else sorted(
        {int(r) for r in args.ranks.split(",") if r.strip()})
    if any(r < 1 for r in args.rank_counts):
        p.error("--ranks: rank counts must be positive")
    args.calor_backend_list = [b for b in args.calor_backends.split(",") if b]
    for b in args.calor_backend_list:
        if b not in CALOR_BACKENDS:
            p.error(f"--calor-backends: unknown backend {b!r}; there are {CALOR_BACKENDS}")
    if args.threads < 1:
        p.error("--threads must be at least 1")
    load_extra_registry(args.extra_registry)
    known = set(DEFAULT_ORDER) | set(approaches.APPROACHES)
    if args.approaches:
        args.names = [a.strip() for a in args.approaches.split(",") if a.strip()]
        unknown = [a for a in args.names if a not in known]
        if unknown:
            p.error(f"--approaches: unknown {unknown}; known: {sorted(known)}")
    else:
        args.names = list(DEFAULT_ORDER)
    args.calor = args.calor.resolve()
    return args


def fortran_binary(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The Fortran program: the CMake-built one, else compiled here like the tests do."""
    if args.fortran.exists():
        return args.fortran, f"{args.fortran} (CMake build)"
    try:
        import compiled

        built = compiled.fortran_reference()
        return built, f"{built} (gfortran {' '.join(compiled.FLAGS)}, built by compiled.py)"
    except Exception as error:  # no gfortran
        return None, f"not available: {error}"


def cmake_arch_flags(binary: Path) -> list[str]:
    """The architecture flags CMake built `binary` with: -march=native unless its build folder
    was configured with CALOR_NATIVE=OFF (CMakeLists.txt)."""
    cache = binary.resolve().parent.parent / "CMakeCache.txt"
    try:
        text = cache.read_text(errors="replace")
    except OSError:
        return []
    return [] if "CALOR_NATIVE:BOOL=OFF" in text else ["-march=native"]


def fortran_mpi_binary(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The MPI Fortran program, built by compiled.py with mpif90 (cached in _build/), with the
    sequential program's flags: compiled.FLAGS, and -march=native where that is the CMake
    build's (so that the MPI columns differ from Seq only by MPI)."""
    try:
        import compiled

        extra = cmake_arch_flags(args.fortran) if args.fortran.exists() else []
        built = compiled.fortran_mpi(tuple(extra))
        flags = " ".join(compiled.FLAGS + extra)
        return built, f"{built} (mpif90 {flags}, built by compiled.py)"
    except Exception as error:  # no mpif90, or the build failed
        return None, f"not available: {error}"


#: The files beside an approach's module that hold its kernel (bench/approaches/).
KERNEL_FILES = {"cython": ["cython_kernel.pyx"], "f2py": ["f2py_kernel.f90"],
                "ctypes": ["ctypes_kernel.c"],
                # Its engines run the block version: the NumPy step and the MPI driver.
                "ipyparallel": ["numpy_slicing.py", "mpi_driver.py", "decomposition.py"],
                # The CUDA C step both rows compile (the RawKernel with NVRTC, PyCUDA with nvcc).
                "cupy-rawkernel": ["stencil_kernel.cu"], "pycuda": ["stencil_kernel.cu"]}
COMMENT = {".py": "#", ".pyx": "#", ".f90": "!", ".c": "/*", ".cu": "//"}


def count_lines(path: Path) -> int:
    """Lines of code in `path`: not blank, not only a comment."""
    mark = COMMENT.get(path.suffix, "#")
    return sum(1 for line in path.read_text().splitlines()
               if line.strip() and not line.strip().startswith((mark, "*", "//")))


def lines_of_code(kind: str, approach: str, mpi: bool, threads: int) -> str:
    """The row's effort: its kernel (module and kernel files) and, for MPI columns, the shared
    driver; calor is a library, so its row counts what a user writes: one command."""
    if kind == "calor":
        return "1 (a command)"
    if kind == "fortran":
        files = [APPROACHES_DIR / "fortran" / "stencil.f90"]
        mpi_files = [APPROACHES_DIR / "fortran" / "stencil_mpi.f90"]
    elif approach not in approaches.APPROACHES and approach not in approaches.GPU:
        return ""  # an unavailable hook: nothing to count
    else:
        # A GPU row is counted where it cannot run too: its code is there all the same.
        module = (approaches.APPROACHES.get(approach) or approaches.GPU[approach]).module
        files = [APPROACHES_DIR / f"{module}.py"] + [
            APPROACHES_DIR / f for f in KERNEL_FILES.get(approach, [])]
        mpi_files = [APPROACHES_DIR / "mpi_driver.py", APPROACHES_DIR / "decomposition.py"]
    kernel = sum(count_lines(f) for f in files if f.exists())
    text = str(kernel)
    if mpi:
        text += f" + {sum(count_lines(f) for f in mpi_files if f.exists())} MPI"
    return text


def row_kind(name: str) -> str:
    """A registry row's kind: "gpu" for the GPU approaches (their roofline is the device's copy
    bandwidth), else "registry"."""
    return "gpu" if name in approaches.GPU else "registry"


def plan(args: argparse.Namespace) -> list[Row]:
    """The rows, in table order, with their cells still pending."""
    rows: list[Row] = []
    all_threads = args.threads
    mpi_ok = shutil.which("mpiexec") is not None
    # The Fortran row's MPI columns run stencil_mpi.f90, built with Open MPI's mpif90.
    fortran_mpi_ok = mpi_ok and shutil.which("mpif90") is not None

    def add(row: Row, mpi: bool) -> None:
        row.lines = lines_of_code(row.kind, row.approach, mpi, row.threads)
        row.cells["seq"] = Cell(row.key, "seq", row.threads, 0, args.size, args.steps)
        if mpi:
            for r in args.rank_counts:
                row.cells[str(r)] = Cell(row.key, str(r), row.threads, r, args.size,
                                         args.steps)
        rows.append(row)

    for name in args.names:
        if name == "fortran":
            add(Row("fortran", "Fortran (F90, gfortran)", "fortran", "fortran", 1,
                    FORTRAN_ABOUT + (FORTRAN_MPI_ABOUT if fortran_mpi_ok else ""),
                    "fortran"), mpi=fortran_mpi_ok)
        elif name == "calor":
            for backend in args.calor_backend_list:
                counts = [1] + ([all_threads] if backend in CALOR_THREADED and all_threads > 1
                                else [])
                for t in counts:
                    key = f"calor-{backend}@{t}"
                    mpi = backend == "tiled" and t == 1 and mpi_ok
                    label = f"calor {backend}" + (" (MPI: tiled, 1 thread/rank)" if mpi else "")
                    add(Row(key, label, "calor", backend, t, f"calor run --backend {backend}",
                            f"calor-{backend}@1"), mpi=mpi)
        elif name in approaches.APPROACHES:
            approach = approaches.get(name)
            counts = [1] + ([all_threads] if approach.threaded and all_threads > 1 else [])
            for t in counts:
                key = f"{name}@{t}"
                mpi = (t == 1 and (not approach.threaded or approach.mpi_columns) and mpi_ok
                       and runs_under_mpi(approach))
                label = name + (" (CUDA simulator: not a GPU)"
                                if approaches.is_simulated(name) else "")
                add(Row(key, label, row_kind(name), name, t, approach.about, f"{name}@1"),
                    mpi=mpi)
        elif name in getattr(approaches, "UNAVAILABLE", {}):
            gpu_row = approaches.GPU.get(name)
            row = Row(f"{name}@1", name, row_kind(name), name, 1,
                      gpu_row.about if gpu_row else "registry hook", f"{name}@1",
                      note=approaches.UNAVAILABLE[name])
            add(row, mpi=False)
            row.cells["seq"].status, row.cells["seq"].note = "skipped", row.note
    return rows


# ----------------------------------------------------------------------------- the run


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(runner: Runner, row: Row, cell: Cell, reference: Reference,
            small_reference) -> None:
    """Runs one cell and verifies it; the cell records what happened."""
    args = runner.args
    n, steps = cell.n, cell.steps
    check_against = reference
    if row.kind == "registry" and row.approach == "python" and cell.ranks == 0:
        updates = n * n * steps
        if updates > args.python_limit and not args.python_full:
            if not args.extrapolate_python:
                cell.status = "skipped"
                cell.note = (f"pure Python at N={n}, {steps} steps ({updates:.2g} updates) would "
                             "take too long; --extrapolate-python runs it at a reduced size "
                             "and scales the time, or --python-full runs it")
                return
            n = args.python_size or max(n // 5, 48)
            steps = args.python_steps or max(steps // 10, 10)
            cell.extrapolated = True
            check_against = small_reference(n, steps)
    cell.measured_n, cell.measured_steps = n, steps
    cell.load1 = machine.load_average()
    busy, own = machine.cpu_busy_seconds(), machine.own_cpu_seconds()
    start = time.perf_counter()
    try:
        if row.kind == "fortran":
            result, path = runner.fortran(n, steps, args.repeat, cell.ranks)
        elif row.kind == "calor":
            result, path = runner.calor(row.approach, n, steps, row.threads, cell.ranks,
                                        args.repeat)
        else:
            result, path = runner.registry(row.approach, n, steps, row.threads, cell.ranks,
                                           args.repeat)
    except JobError as error:
        cell.status, cell.note = error.status, str(error)
        cell.wall_seconds = time.perf_counter() - start
        return
    cell.wall_seconds = time.perf_counter() - start
    # /proc/stat counts in clock ticks (10 ms): too coarse for measurements of a second or two.
    if busy is not None and cell.wall_seconds >= 3:
        foreign = (machine.cpu_busy_seconds() - busy) - (machine.own_cpu_seconds() - own)
        cell.foreign_cores = max(foreign, 0.0) / cell.wall_seconds
    cell.times = [float(t) for t in result["times"]]
    if cell.extrapolated:
        scale = (cell.n * cell.n * cell.steps) / (n * n * steps)
        cell.note = (f"extrapolated: measured at N={n}, {steps} steps, times x{scale:.4g} "
                     "(ratio of cell updates)")
        cell.times = [t * scale for t in cell.times]
    cell.compile_seconds = result["compile_seconds"]
    cell.kernel_times = [float(t) for t in result.get("kernel_times", [])]
    cell.end_to_end_times = [float(t) for t in result.get("end_to_end_times", [])]
    cell.dims = result.get("dims")
    cell.command = result["command"]
    verify(cell, path, check_against)
    if result.get("note"):
        cell.note = "; ".join(x for x in [cell.note, result["note"]] if x)
    path.unlink(missing_ok=True)


def finish_cells(rows: list[Row], bandwidth: dict, cores: int,
                 gpu_bandwidth: dict | None = None) -> None:
    """Best, median, spread, MLUP/s, roofline, speed-up and efficiency of every cell. A GPU
    row's roofline is the device's copy bandwidth (gpu_bandwidth, if it was measured)."""
    by_key = {row.key: row for row in rows}
    fortran = by_key.get("fortran")
    fortran_seq = (fortran.cells["seq"] if fortran else None)
    f_best = (min(fortran_seq.times) if fortran_seq and fortran_seq.status == "ok"
              and fortran_seq.times else None)
    bw = bandwidth["by_threads"]
    for row in rows:
        for cell in row.cells.values():
            cell.oversubscribed = cell.threads * max(cell.ranks, 1) > cores
            if not cell.times:
                continue
            cell.best, cell.worst = min(cell.times), max(cell.times)
            cell.median = statistics.median(cell.times)
            cell.spread = (cell.worst - cell.best) / cell.best if cell.best > 0 else None
            if cell.best > 0:
                cell.mlups = cell.n * cell.n * cell.steps / cell.best / 1e6
                if f_best:
                    cell.speedup = f_best / cell.best
            if row.kind == "gpu":
                finish_gpu_cell(cell, gpu_bandwidth)
            elif cell.best > 0:
                concurrency = min(cell.threads * max(cell.ranks, 1), cores)
                gbs = (bw.get("1") if concurrency == 1 else bw.get(str(max(map(int, bw)))))
                if gbs:
                    cell.roofline = cell.mlups * 1e6 * 16 / (gbs["gbs"] * 1e9)
    for row in rows:
        base_row = by_key.get(row.base)
        base = base_row.cells.get("seq") if base_row else None
        for cell in row.cells.values():
            if cell.best and base and base.best and base.status == "ok":
                cell.efficiency = base.best / (cell.threads * max(cell.ranks, 1) * cell.best)


def gpu_bandwidth(rows: list[Row], timeout: float) -> dict:
    """The GPU rows' roofline: the device's copy bandwidth (gpu.py bandwidth), measured in a
    process of its own when a GPU row is to run on a real device; else why it was not."""
    ok, why = gpu.device_status()
    if not ok:
        return {"measured": False, "why": f"no GPU ({why})"}
    if not any(r.kind == "gpu" and c.status == "pending" for r in rows for c in r.cells.values()):
        return {"measured": False, "why": "no GPU row was run"}
    env = thread_env(1)
    env.pop("NUMBA_ENABLE_CUDASIM", None)  # the device itself, even when rows are simulated
    try:
        return last_json(execute([sys.executable, str(APPROACHES_DIR / "gpu.py"), "bandwidth"],
                                 env, timeout))
    except JobError as error:
        return {"measured": False, "why": f"the measurement failed: {error}"}


def finish_gpu_cell(cell: Cell, gpu_bandwidth: dict | None) -> None:
    """A GPU cell's MLUP/s, its kernel and end-to-end bests, and its rooflines: the time loop's
    and the kernels' MLUP/s x 16 B against the device copy bandwidth, where it was measured."""
    updates = cell.n * cell.n * cell.steps
    cell.kernel_best = min(cell.kernel_times) if cell.kernel_times else None
    cell.end_to_end_best = min(cell.end_to_end_times) if cell.end_to_end_times else None
    gbs = (gpu_bandwidth or {}).get("gbs")
    if gbs and cell.best > 0:
        cell.roofline = updates * 16 / cell.best / (gbs * 1e9)
    if gbs and cell.kernel_best:
        cell.kernel_roofline = updates * 16 / cell.kernel_best / (gbs * 1e9)


def reload_rows(previous: dict, keys: list[str] | dict[str, set[str] | None],
                planned: dict[str, Row] | None = None) -> list[Row]:
    """The rows of an earlier results.json, those in `keys` with fresh (pending) cells. A row
    in `keys` that `planned` (plan()'s rows, by key) has takes its description and columns
    from there, so that columns added since (e.g. the Fortran row's MPI columns) are measured
    too; the others keep their columns. `keys` may map a key to the only columns to measure
    again (None: all): the row's other earlier cells are kept, its other new ones left out."""
    only = keys if isinstance(keys, dict) else dict.fromkeys(keys)
    rows = []
    for data in previous["rows"]:
        row = Row(**{k: v for k, v in data.items() if k != "cells"})
        fresh = (planned or {}).get(row.key) if row.key in only else None
        if fresh is not None:
            row.label, row.about, row.note = fresh.label, fresh.about, fresh.note
            columns = only[row.key]
            for column, cell in fresh.cells.items():
                if columns is None or column in columns:
                    row.cells[column] = Cell(**asdict(cell))
                elif column in data["cells"]:
                    row.cells[column] = Cell(**data["cells"][column])
        else:
            for column, cell in data["cells"].items():
                if row.key in only and (only[row.key] is None or column in only[row.key]):
                    row.cells[column] = Cell(row.key, column, cell["threads"], cell["ranks"],
                                             cell["n"], cell["steps"])
                else:
                    row.cells[column] = Cell(**cell)
        rows.append(row)
    return rows


def snapshot(args: argparse.Namespace, attribute: str, folder: Path) -> dict:
    """Copies the binary args.<attribute> into folder and points args at the copy; returns
    where it came from, its modification time and its SHA-256."""
    original = Path(getattr(args, attribute))
    copy = folder / f"bin-{attribute}"
    shutil.copy2(original, copy)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    setattr(args, attribute, copy)
    return {"path": str(original), "sha256": digest,
            "modified": datetime.datetime.fromtimestamp(original.stat().st_mtime)
            .isoformat(timespec="seconds")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.quick:
        log(f"compare: --quick (N = {args.size}, {args.steps} steps): its timings are not "
            "meaningful; it checks that every approach runs and agrees with the reference")
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    cores = machine.cores()
    have_calor = args.calor.exists()
    if args.previous is not None:
        rows = reload_rows(args.previous, args.row_columns,
                           {row.key: row for row in plan(args)})
        unknown = [f"{key}:{column}" for key, columns in args.row_columns.items()
                   for column in columns or () if column not in
                   next(r for r in rows if r.key == key).cells]
        if unknown:
            raise SystemExit(f"compare: --rows: no such column: {', '.join(unknown)}")
    else:
        rows = plan(args)
    if not have_calor:
        for row in rows:
            if row.kind == "calor":
                for cell in row.cells.values():
                    cell.status, cell.note = "skipped", f"no calor binary at {args.calor}"
    fortran_path, fortran_how = fortran_binary(args) if any(
        r.kind == "fortran" for r in rows) or not have_calor else (None, "not requested")
    args.fortran_binary = fortran_path
    # The Fortran row's MPI columns: stencil_mpi.f90, built here (compiled.py caches it).
    args.fortran_mpi_binary, args.fortran_mpi_how = fortran_mpi_binary(args) if any(
        r.kind == "fortran" and c.ranks and c.status == "pending"
        for r in rows for c in r.cells.values()) else (None, "not requested")
    if fortran_path is None:
        for row in rows:
            if row.kind == "fortran" and row.cells["seq"].status == "pending":
                row.cells["seq"].status, row.cells["seq"].note = "skipped", fortran_how

    info = machine.describe(args.calor if have_calor else None)
    info["binaries"] = {}
    log(f"compare: N={args.size}, {args.steps} steps, best of {args.repeat}, ranks "
        f"{args.rank_counts or 'none'}, all threads = {args.threads}, {cores} cores "
        f"({info['cpu_model']}), load {info['load_average_at_start']}")
    if args.previous is not None:
        update = {"at": datetime.datetime.now().isoformat(timespec="seconds"),
                  "rows": args.row_entries,
                  "load_average_at_start": info["load_average_at_start"],
                  "versions": info["versions"]}
        info = args.previous["machine"]
        bandwidth = args.previous["bandwidth"]
        log(f"compare: updating rows {', '.join(args.row_entries)} of {args.update}")
    else:
        bandwidth = machine.bandwidth(args.bandwidth, args.threads, args.quick,
                                      args.calor if have_calor else None)
    log("copy bandwidth: " + ", ".join(f"{t} thread(s) {v['gbs']:.2f} GB/s"
                                       for t, v in bandwidth["by_threads"].items()))
    device_bandwidth = gpu_bandwidth(rows, args.timeout)
    if args.previous is not None and not device_bandwidth["measured"]:
        device_bandwidth = args.previous.get("gpu_bandwidth", device_bandwidth)
    log("GPU copy bandwidth: " + (f"{device_bandwidth['gbs']:.1f} GB/s ({device_bandwidth['how']})"
                                  if device_bandwidth["measured"]
                                  else f"not measured: {device_bandwidth['why']}"))

    with tempfile.TemporaryDirectory(prefix="calor-compare-") as scratch_dir:
        # Run copies of the binaries: others may rebuild build/ while this runs.
        binaries = {}
        if have_calor:
            binaries["calor"] = snapshot(args, "calor", Path(scratch_dir))
        if args.fortran_binary is not None:
            binaries["fortran"] = snapshot(args, "fortran_binary", Path(scratch_dir))
        if args.fortran_mpi_binary is not None:
            binaries["fortran_mpi"] = snapshot(args, "fortran_mpi_binary", Path(scratch_dir))
        if args.previous is None:
            info["binaries"] = binaries
        else:
            update["binaries"] = binaries
            if binaries.get("calor", {}).get("sha256") != \
                    info.get("binaries", {}).get("calor", {}).get("sha256"):
                log("compare: note: the calor binary differs from the earlier run's")
        runner = Runner(args, Path(scratch_dir))

        def reference_at(n: int, steps: int) -> Reference:
            if have_calor:
                _, path = runner.calor("serial", n, steps, 1, 0, 1)
                source = f"calor run --backend serial --threads 1 (N={n}, {steps} steps)"
            elif fortran_path is not None:
                _, path = runner.fortran(n, steps, 1)
                source = f"Fortran program {fortran_path} (N={n}, {steps} steps)"
            else:
                raise SystemExit("compare: neither the calor binary nor gfortran is available "
                                 "for the reference field")
            ref = Reference(np.load(path), source)
            path.unlink(missing_ok=True)
            return ref

        small: dict[tuple[int, int], Reference] = {}

        def small_reference(n: int, steps: int) -> Reference:
            if (n, steps) not in small:
                small[(n, steps)] = reference_at(n, steps)
            return small[(n, steps)]

        log("reference: computing ...")
        reference = reference_at(args.size, args.steps)
        log(f"reference: {reference.source}: heat {reference.summary['heat']!r}, "
            f"l2 {reference.summary['l2']!r}, max {reference.summary['max']!r}")

        pending = [(row, cell) for row in rows for cell in row.cells.values()
                   if cell.status == "pending"]
        for k, (row, cell) in enumerate(pending, 1):
            where = "seq" if cell.ranks == 0 else f"{cell.ranks} ranks"
            log(f"[{k:2d}/{len(pending)}] {row.label} @{row.threads} thread(s), {where} ...")
            measure(runner, row, cell, reference, small_reference)
            best = f"{min(cell.times):.4g} s" if cell.times else "-"
            log(f"        {cell.status}: {best}" + (f"  ({cell.note})" if cell.note else ""))

    finish_cells(rows, bandwidth, cores, device_bandwidth)
    info["load_average_at_end"] = machine.load_average()
    loads = [c.load1 for r in rows for c in r.cells.values() if c.load1 is not None]
    info["load_average_during"] = [min(loads), max(loads)] if loads else None
    foreign = [c.foreign_cores for r in rows for c in r.cells.values()
               if c.foreign_cores is not None]
    info["foreign_cores"] = ({"mean": statistics.fmean(foreign), "max": max(foreign),
                              "cells_above_0.25": sum(f > 0.25 for f in foreign),
                              "cells": len(foreign)} if foreign else None)
    if args.previous is not None:
        update["command"] = " ".join([Path(sys.executable).name, *sys.argv])
        update["elapsed_seconds"] = time.time() - started
        foreign_update = [c.foreign_cores for _, c in pending if c.foreign_cores is not None]
        update["foreign_cores_max"] = max(foreign_update) if foreign_update else None
        results = dict(args.previous)
        results["updates"] = list(args.previous.get("updates", [])) + [update]
        if args.fortran_mpi_binary is not None:
            results["fortran_mpi"] = args.fortran_mpi_how
        results["machine"] = info
        results["gpu_bandwidth"] = device_bandwidth
        results["rows"] = [{**{k: v for k, v in asdict(row).items() if k != "cells"},
                            "cells": {c: asdict(cell) for c, cell in row.cells.items()}}
                           for row in rows]
        return write_outputs(args, rows, results, started)
    results = {
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "elapsed_seconds": time.time() - started,
        "case": {"preset": "stencil", "n": args.size, "steps": args.steps,
                 "energy": args.energy, "updates": args.size * args.size * args.steps,
                 "repeat": args.repeat, "ranks": args.rank_counts,
                 "all_threads": args.threads, "quick": args.quick},
        "tolerance": TOLERANCE,
        "machine": info,
        "bandwidth": bandwidth,
        "gpu_bandwidth": device_bandwidth,
        "reference": {"source": reference.source, **reference.summary},
        "fortran": fortran_how,
        "fortran_mpi": args.fortran_mpi_how,
        "calor": info["binaries"].get("calor", {}).get("path"),
        "rows": [{**{k: v for k, v in asdict(row).items() if k != "cells"},
                  "cells": {c: asdict(cell) for c, cell in row.cells.items()}}
                 for row in rows],
    }
    return write_outputs(args, rows, results, started)


def write_outputs(args: argparse.Namespace, rows: list[Row], results: dict,
                  started: float) -> int:
    """results.json, results.csv, report.md and the plots; exit status 1 if any is WRONG."""
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    write_csv(args.out / "results.csv", rows, results)
    report.write(args.out, results, plots=not args.no_plots)
    wrong = [f"{r.key}/{c.column}" for r in rows for c in r.cells.values()
             if c.status == "WRONG"]
    log(f"compare: wrote {args.out}/results.json, results.csv, report.md"
        + ("" if args.no_plots else " and plots") + f" in {time.time() - started:.0f} s")
    if wrong:
        log(f"compare: WRONG results: {', '.join(wrong)}")
    return 1 if wrong else 0


CSV_FIELDS = ["row", "label", "approach", "column", "threads", "ranks", "oversubscribed", "n",
              "steps", "status", "best_s", "median_s", "worst_s", "spread", "repeats",
              "compile_s", "mlups", "roofline_fraction", "speedup_vs_fortran_seq",
              "parallel_efficiency", "heat", "l2", "max", "rel_heat", "rel_l2", "rel_max",
              "bits_identical", "extrapolated", "measured_n", "measured_steps", "load1",
              "foreign_cores", "kernel_best_s", "end_to_end_best_s", "kernel_roofline_fraction",
              "dims", "command", "note"]


def write_csv(path: Path, rows: list[Row], results: dict) -> None:
    """One line per measurement; the machine in comment lines at the top."""
    m = results["machine"]
    bw = results["bandwidth"]
    with open(path, "w", newline="") as f:
        f.write(f"# machine: {m['cpu_model']}, {m['cores']} cores; copy bandwidth "
                + ", ".join(f"{t} thread(s) {v['gbs']:.2f} GB/s"
                            for t, v in bw["by_threads"].items())
                + f" ({bw['how']})\n")
        device = results.get("gpu_bandwidth") or {"measured": False, "why": "no GPU row"}
        f.write("# GPU copy bandwidth (the GPU rows' roofline): "
                + (f"{device['gbs']:.1f} GB/s ({device['how']}, {device['device']})\n"
                   if device["measured"] else f"not measured: {device['why']}\n"))
        f.write("# versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + "\n")
        f.write(f"# reference: {results['reference']['source']}; tolerance "
                f"{results['tolerance']:g} relative on heat, l2, max\n")
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            for cell in row.cells.values():
                s = cell.summary or {}
                e = cell.rel_errors or {}
                writer.writerow({
                    "row": row.key, "label": row.label, "approach": row.approach,
                    "column": cell.column, "threads": cell.threads, "ranks": cell.ranks,
                    "oversubscribed": cell.oversubscribed, "n": cell.n, "steps": cell.steps,
                    "status": cell.status, "best_s": cell.best, "median_s": cell.median,
                    "worst_s": cell.worst, "spread": cell.spread, "repeats": len(cell.times),
                    "compile_s": cell.compile_seconds, "mlups": cell.mlups,
                    "roofline_fraction": cell.roofline, "speedup_vs_fortran_seq": cell.speedup,
                    "parallel_efficiency": cell.efficiency, "heat": s.get("heat"),
                    "l2": s.get("l2"), "max": s.get("max"), "rel_heat": e.get("heat"),
                    "rel_l2": e.get("l2"), "rel_max": e.get("max"),
                    "bits_identical": cell.bits_identical, "extrapolated": cell.extrapolated,
                    "measured_n": cell.measured_n, "measured_steps": cell.measured_steps,
                    "load1": cell.load1, "foreign_cores": cell.foreign_cores,
                    "kernel_best_s": cell.kernel_best, "end_to_end_best_s": cell.end_to_end_best,
                    "kernel_roofline_fraction": cell.kernel_roofline,
                    "dims": cell.dims, "command": cell.command,
                    "note": cell.note})


if __name__ == "__main__":
    sys.exit(main())
