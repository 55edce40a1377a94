"""ipyparallel (the Chalmers course's approach): the harness starts P engines under mpiexec
(ipyparallel's MPI launcher), and each engine runs the mpi4py block version (mpi_driver.run)
with the NumPy step, halos exchanged over MPI between engines. The engines' start-up is
reported apart from the time loop, as other rows report their JIT or build.

The cluster is kept for the process's later runs with the same engine count (the tests run
several small cases), and stopped at exit."""

from __future__ import annotations

import atexit
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

_HERE = str(Path(__file__).resolve().parent)
_clusters: dict[int, tuple[object, object]] = {}


def _engine_run(n: int, steps: int, energy: float) -> dict | None:
    """On each engine (one MPI rank): the block version with NumPy's step."""
    import mpi_driver
    import numpy_slicing

    return mpi_driver.run(numpy_slicing.prepare, n, steps, energy)


def _client(engines: int):
    """A connected client of `engines` MPI engines, started on first use."""
    if engines not in _clusters:
        import ipyparallel as ipp

        cluster = ipp.Cluster(engines="mpi", n=engines, log_level=40)
        # As everywhere in this study: ranks may exceed the cores, and CI runs as root.
        cluster.config.MPILauncher.mpi_args = ["--oversubscribe", "--allow-run-as-root",
                                               "--bind-to", "none"]
        client = cluster.start_and_connect_sync()
        # The engines import this module (and mpi_driver) by name: from this folder.
        client[:].execute(f"import sys; sys.path.insert(0, {_HERE!r})", block=True)
        _clusters[engines] = (cluster, client)
    return _clusters[engines][1]


@atexit.register
def _stop_all() -> None:
    # ipyparallel prints as it stops; stdout carries the harness's JSON result.
    with contextlib.redirect_stdout(sys.stderr):
        for cluster, client in _clusters.values():
            client.close()
            cluster.stop_cluster_sync()
    _clusters.clear()


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case on `threads` engines (MPI ranks); see case.py. compile_seconds is
    the engines' start-up when this call started them (0 when they were running already)."""
    engines = max(1, threads)
    start = time.perf_counter()
    client = _client(engines)
    startup = time.perf_counter() - start
    results = client[:].apply_sync(_engine_run, n, steps, energy)
    result = next(r for r in results if r is not None)  # rank 0's
    return {"field": np.asarray(result["field"]), "seconds": result["seconds"],
            "compile_seconds": startup + result["compile_seconds"], "dims": result["dims"]}
