"""calor.Simulation: a running simulation, its field as a NumPy view."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any, Callable, NamedTuple, Optional, Union

from . import _calor
from ._problem import Problem
from ._progress import make_bar


def _check_same_mpi(comm: Any) -> None:
    """A communicator handle means something only to the MPI library that made it: mpi4py must
    use the one calor was built with (requirements.txt builds mpi4py from source for that)."""
    if not _calor.have_mpi:
        raise RuntimeError("this calor was built without MPI (install libopenmpi-dev and "
                           "reinstall calor)")
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is None or not isinstance(comm, mpi.Comm):
        return  # not an mpi4py communicator: the C++ side checks what it can
    theirs, ours = mpi.Get_library_version().strip(), _calor.mpi_library().strip()
    if theirs != ours:
        raise RuntimeError(f"mpi4py uses another MPI library than calor: {theirs.splitlines()[0]!r}"
                           f" vs {ours.splitlines()[0]!r}; reinstall mpi4py against calor's "
                           "(pip install --no-binary mpi4py mpi4py)")


@contextlib.contextmanager
def _sigterm_stops_the_run():
    """SIGTERM (a batch system's time limit) stops a run as `calor run` does: the run loop saves
    the configured checkpoint at the next chunk and the interpreter exits with status 75, so
    that a scheduler requeues the job. Only where Python's default action (die at once) is in
    place, and only in the main thread, where signal handlers can be set."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(75)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Stats(NamedTuple):
    """Verification values of the global interior."""

    heat: float  #: sum of the values (compensated summation)
    min: float
    max: float
    l2: float  #: sqrt of the sum of squares


class Simulation(_calor.Simulation):
    """Solves one Problem through calor's run loop, the same one `calor run` drives.

    ::

        sim = calor.Simulation(calor.presets.stencil(n=480, steps=50))
        sim.run()                  # the problem's steps, with a progress bar
        sim.stats().heat           # 150.0
        u = sim.field              # NumPy view of the state, shape (480, 480), no copy
        sim.step(10)               # 10 more steps; read sim.field again afterwards

    Everything `calor run` does happens here too, from the problem's settings: snapshots
    (output={"path": "run.h5", "every": 100}: HDF5 with an XDMF file for ParaView), PNG frames
    (output={"png": "frames/f", "png_every": 50}), checkpoints (checkpoint={"path": "c.h5",
    "every": 500}; Simulation(problem, restart="c.h5") continues from one), health checks
    (check_every), and method="spectral" (the FFT solver: any number of steps at the cost of
    one transform). Monitors call Python at a schedule: sim.add_monitor(fn, every=100).

    Arguments:
        problem: a calor.Problem.
        backend: "auto", "serial", "simd", "threads" or "tiled" (see calor.backends());
            None takes the problem's setting, "auto" unless it says otherwise. "auto" picks by
            grid size; sim.backend and sim.backend_reason say what it chose and why.
        threads: threads per process; None takes the problem's setting, and 0 means the
            default (OMP_NUM_THREADS, else every core; under MPI the cores of a node are
            shared between its ranks).
        comm: an mpi4py communicator (e.g. MPI.COMM_WORLD) to split the grid over its ranks,
            or None for one process. MPI must be running (import mpi4py.MPI); calor neither
            initialises nor finalises it. Every rank then builds the Simulation and calls
            step(), run(), stats() and gather() together; sim.field is that rank's block and
            sim.box says where it sits.
        restart: a checkpoint file (written by `calor run --checkpoint`, by a Simulation
            with checkpoint settings, or by sim.save_checkpoint()) to continue from: its step
            and field replace the initial state. A checkpoint of other physics is refused,
            naming each difference, unless force=True (never one of another grid).
        force: see restart.
        overwrite: let the outputs replace existing files that calor did not write (refused
            otherwise, before the first step, as are two outputs on one file and a directory
            where a file is meant; missing parent directories are created).

    The field: sim.field is a writable NumPy view of the current state's interior (shape
    (nz, ny, nx) trimmed to dim, x contiguous; the halo is skipped through the strides). The
    engine keeps two buffers and swaps them each step, so a view is valid until the next step:
    take sim.field again after stepping. Writing into it (sim.field[...] = ...) changes the
    state the next step starts from. np.from_dlpack(sim) gives the same memory through DLPack.

    Threads and signals: the GIL is released while the engine steps, so other Python threads
    run; steps are taken in chunks of up to about half a second (whole blocks of the tiled
    backend), and Ctrl-C (KeyboardInterrupt) between two chunks leaves the state at a whole step
    (sim.step_count tells which), after saving the configured checkpoint if there is one.
    """

    def __init__(self, problem: Problem, backend: Optional[str] = None,
                 threads: Optional[int] = None, comm: Any = None,
                 restart: Union[str, "os.PathLike[str]", None] = None,
                 force: bool = False, overwrite: bool = False) -> None:
        """Allocates the fields and applies the initial state; see the class for the
        arguments."""
        if not isinstance(problem, _calor.Problem):
            raise TypeError(f"problem must be a calor.Problem, got {type(problem).__name__}")
        handle = None
        if comm is not None:
            py2f = getattr(comm, "py2f", None)
            if py2f is None:
                raise TypeError("comm must be an mpi4py communicator such as MPI.COMM_WORLD, "
                                f"got {type(comm).__name__}")
            _check_same_mpi(comm)
            handle = py2f()
        super().__init__(problem, problem.backend if backend is None else backend,
                         problem.threads if threads is None else threads, handle,
                         "" if restart is None else os.fspath(restart), bool(force),
                         bool(overwrite))
        self._problem = problem
        self._comm = comm
        hooks = getattr(problem, "_callables", [])
        if hooks:
            self._follow(hooks)

    def _follow(self, hooks: list) -> None:
        """Evaluates the problem's callables now and at every chunk boundary (a monitor every
        steps_per_pass steps), setting the values of the chunk that follows."""
        dim = self._problem.dim

        def update(sim: "Simulation") -> None:
            t = sim.time
            for (kind, which), fn in hooks:
                value = float(fn(t))
                if kind == "source":
                    sim._set_source_energy(which, value)
                    continue
                for axis, side in which:
                    if axis < dim:
                        sim._set_boundary_value(axis, side, value)

        update(self)
        self._add_monitor(update, max(1, self.steps_per_pass), 0.0)

    @property
    def problem(self) -> Problem:
        """The problem being solved."""
        return self._problem

    @property
    def comm(self) -> Any:
        """The mpi4py communicator given, or None."""
        return self._comm

    def add_monitor(self, fn: Callable[["Simulation"], Optional[bool]], every: int = 0,
                    seconds: float = 0.0) -> None:
        """Calls fn(sim) every `every` steps and/or every `seconds` seconds of wall time while
        the simulation steps (between chunks, on every rank under MPI), with sim.field, sim.stats()
        and sim.step_count readable. fn returning False ends the current run() or step()
        early, at that step. Raises ValueError unless every > 0 or seconds > 0."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self._add_monitor(fn, int(every), float(seconds))

    def stats(self) -> Stats:
        """Heat, min, max and L2 norm of the global interior (collective under MPI)."""
        return Stats(*self._stats())

    def run(self, progress: Union[bool, Callable[[int, int, float], None]] = True) -> float:
        """Takes the problem's remaining steps (problem.steps - step_count); returns the wall
        time spent stepping, in seconds.

        Ctrl-C raises KeyboardInterrupt and SIGTERM exits with status 75, each at a whole step
        after saving the configured checkpoint (the problem's checkpoint settings).

        progress: True shows a bar on rank 0 (tqdm if it is installed, else a text bar in a
        terminal or a notebook, or a line every 5 s in a log); False shows nothing; a callable
        is called as progress(step, total, seconds) about every half second.
        """
        total = self._problem.steps
        remaining = total - self.step_count
        if remaining <= 0:
            return 0.0
        bar = None
        if callable(progress):
            callback = progress
        elif progress and self.rank == 0:
            bar = make_bar(total, self.step_count)
            callback = bar.update
        else:
            callback = None
        try:
            with _sigterm_stops_the_run():
                return self._advance(remaining, callback, total)
        finally:
            if bar is not None:
                bar.close()

    def __repr__(self) -> str:
        n = " x ".join(str(v) for v in self._problem.n)
        where = f", {self.decomposition}" if self.ranks > 1 else ""
        return (f"<calor.Simulation {self._problem.preset} {n}, step {self.step_count}/"
                f"{self._problem.steps}, backend {self.backend!r}{where}>")
