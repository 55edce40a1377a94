"""calor: heat diffusion on structured grids (1D/2D/3D, explicit FTCS), from Python.

The same engine as the `calor` command line, without copies between it and NumPy::

    import calor
    sim = calor.Simulation(calor.presets.stencil(n=480, steps=50))
    sim.run()                 # progress bar in a terminal or notebook
    print(sim.stats())        # Stats(heat=150.0, min=0.0, max=..., l2=...)
    u = sim.field             # NumPy view of the state (no copy), valid until the next step

Problem(**settings) takes the keys of a calor TOML file as keyword arguments; Simulation
steps it (step(n), run()) through the same run loop as `calor run`: snapshots, PNG frames,
checkpoints and restarts, health checks, the spectral method and Python monitors, on one
process or, with comm=MPI.COMM_WORLD, over MPI ranks. read_dataset() reads the files back.
Settings the engine cannot use raise calor.Error, a ValueError.
"""

from __future__ import annotations

try:
    from . import _calor
except ImportError as e:
    # Most often the source folder python/calor is on sys.path instead of the installed package.
    raise ImportError(f"cannot load calor's compiled module next to {__file__}: {e}. If that is "
                      "the source folder, install the package (pip install . at the repository "
                      "root) and import it from outside python/.") from e

from . import presets
from ._calor import (Error, backends, build_flags, build_type, compiler, default_threads,
                     have_mpi, llc_sweep_speed, read_dataset)
from ._problem import Problem
from ._simulation import Simulation, Stats

__version__: str = _calor.version

__all__ = [
    "Error", "Problem", "Simulation", "Stats", "backends", "default_threads", "have_mpi",
    "llc_sweep_speed",
    "presets", "read_dataset", "__version__", "build_flags", "build_type", "compiler",
]
