"""The MPI Fortran program, fortran/stencil_mpi.f90 (mpif90 -O3 -ffp-contract=off), gives the
sequential Fortran program's final field bit for bit on any rank count: prime counts, the
non-square 3 x 1 grid, and N that the process grid does not divide."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

MPIEXEC = shutil.which("mpiexec")
pytestmark = [
    pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not found"),
    pytest.mark.skipif(shutil.which("mpif90") is None, reason="mpif90 not found (Open MPI)"),
    pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (Open MPI)"),
]
STEPS = 20


def read_raw(path: Path, n: int) -> np.ndarray:
    # Both programs write a(1:n, 1:n) column-major, i fastest: that is C order a[j, i].
    return np.fromfile(path, dtype=np.float64).reshape(n, n)


def sequential(tmp_path: Path, n: int, steps: int) -> np.ndarray:
    import compiled

    raw = tmp_path / f"seq-{n}.raw"
    subprocess.run([str(compiled.fortran_reference()), str(n), str(steps), "1.0", str(raw)],
                   capture_output=True, text=True, timeout=120, check=True)
    return read_raw(raw, n)


def on_ranks(tmp_path: Path, ranks: int, n: int, steps: int) -> tuple[list[str], np.ndarray]:
    """Runs stencil_mpi on `ranks` ranks; rank 0's output words and the final field."""
    import compiled

    raw = tmp_path / f"mpi-{ranks}-{n}.raw"
    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", str(ranks),
               str(compiled.fortran_mpi()), str(n), str(steps), "1.0", str(raw)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout.split(), read_raw(raw, n)


@pytest.mark.parametrize("ranks, dims", [(1, [1, 1]), (2, [2, 1]), (3, [3, 1]), (4, [2, 2])])
@pytest.mark.parametrize("n", [48, 50])
def test_bits_equal_sequential_fortran(tmp_path, ranks, dims, n, same_bits):
    expected = sequential(tmp_path, n, STEPS)
    words, field = on_ranks(tmp_path, ranks, n, STEPS)
    same_bits(field, expected, f"stencil_mpi on {ranks} ranks, n={n}")  # says where, if not
    assert np.array_equal(field, expected)
    assert words[words.index("ranks") + 1] == str(ranks)
    assert [int(w) for w in words[words.index("dims") + 1:][:2]] == dims
    assert float(words[words.index("seconds") + 1]) >= 0
    # Heat is reduced over the ranks in another order: equal to printing precision.
    assert float(words[words.index("heat") + 1]) == pytest.approx(float(expected.sum()),
                                                                   abs=1e-4)


def test_equals_the_plain_reference_loop(tmp_path, reference, same_bits):
    # An odd number of steps ends in the other array; 6 ranks make a 3 x 2 grid with uneven
    # blocks in both directions at n=37.
    _, field = on_ranks(tmp_path, 6, 37, 11)
    same_bits(field, reference(37, 11), "stencil_mpi on 6 ranks (3 x 2), n=37, 11 steps")


def test_refuses_a_grid_larger_than_the_case(tmp_path):
    import compiled

    command = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", "4",
               str(compiled.fortran_mpi()), "1", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "too small" in done.stderr
