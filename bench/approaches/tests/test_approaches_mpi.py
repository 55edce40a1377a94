"""mpi_driver.py under mpiexec gives the serial field bit for bit, for any rank count,
including prime counts, non-square process grids and N that the grid does not divide."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (Open MPI)")
DRIVER = Path(__file__).resolve().parent.parent / "mpi_driver.py"


def mpi_run(tmp_path: Path, ranks: int, approach: str, n: int, steps: int,
            threads: int = 1) -> tuple[dict, np.ndarray]:
    """Runs mpi_driver.py on `ranks` ranks; its JSON record and final field."""
    npy = tmp_path / f"{approach}-{ranks}-{n}.npy"
    # Open MPI binds a rank to one core by default; a threaded rank needs more.
    binding = ["--bind-to", "none"] if threads > 1 else []
    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", *binding, "-n", str(ranks),
               sys.executable, str(DRIVER), "--approach", approach, "--n", str(n),
               "--steps", str(steps), "--threads", str(threads), "--save-npy", str(npy),
               "--energy", "0.1"]  # 1.0 keeps every value exact: any order would pass
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert record["ranks"] == ranks
    return record, np.load(npy)


@pytest.mark.parametrize("ranks", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("n", [37, 48])
def test_numpy_on_ranks_equals_serial(tmp_path, ranks, n, reference, same_bits):
    record, field = mpi_run(tmp_path, ranks, "numpy", n, 10)
    same_bits(field, reference(n, 10, 0.1), f"numpy on {ranks} ranks, dims {record['dims']}")
    assert record["heat"] == float(reference(n, 10, 0.1).sum())


@pytest.mark.parametrize("approach, ranks", [("numba", 4), ("numba", 6), ("cython", 3),
                                             ("f2py", 6)])
def test_compiled_on_ranks_equal_serial(tmp_path, approach, ranks, reference, same_bits):
    record, field = mpi_run(tmp_path, ranks, approach, 37, 10)
    same_bits(field, reference(37, 10, 0.1), f"{approach} on {ranks} ranks, dims {record['dims']}")


@pytest.mark.slow
def test_numba_parallel_on_two_ranks_of_two_threads(tmp_path, reference, same_bits):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core here")
    _, field = mpi_run(tmp_path, 2, "numba-parallel", 37, 10, threads=2)
    same_bits(field, reference(37, 10, 0.1), "numba-parallel, 2 ranks x 2 threads")


def test_driver_refuses_a_grid_larger_than_the_case(tmp_path):
    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", "4", sys.executable,
               str(DRIVER), "--approach", "numpy", "--n", "1", "--steps", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "too small" in done.stderr


def test_one_failing_rank_stops_them_all(tmp_path):
    # Rank 0 prepares the step first while the others wait in a Barrier; its error (too many
    # threads) must abort every rank rather than leave the others waiting for ever.
    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "--bind-to", "core", "-n", "2",
               sys.executable, str(DRIVER), "--approach", "numba-parallel", "--n", "8",
               "--steps", "1", "--threads", "64"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "threads = 64" in done.stderr


@pytest.mark.parametrize("ranks", [3, 5])
def test_calor_python_on_ranks_equals_serial(tmp_path, ranks, reference, same_bits):
    """calor-python's MPI column (issue 21): the module takes MPI.COMM_WORLD and splits the grid
    itself; rank 0's gathered field is the serial reference's bits."""
    import approaches

    if "calor-python" not in approaches.APPROACHES:
        pytest.skip(approaches.UNAVAILABLE.get("calor-python", "calor-python not registered"))
    worker = DRIVER.parent.parent / "compare" / "worker.py"
    npy = tmp_path / f"calor-python-{ranks}.npy"
    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", str(ranks),
               sys.executable, str(worker), "--mpi", "--approach", "calor-python", "--n", "37",
               "--steps", "10", "--repeat", "1", "--energy", "0.1", "--save-npy", str(npy)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    assert json.loads(done.stdout.strip().splitlines()[-1])["ranks"] == ranks
    same_bits(np.load(npy), reference(37, 10, 0.1), f"calor-python on {ranks} ranks")
