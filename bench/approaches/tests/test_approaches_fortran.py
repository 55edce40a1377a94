"""The Python side agrees bit for bit with the project's Fortran reference,
fortran/stencil.f90, built with gfortran -O3 -ffp-contract=off."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import approaches

pytestmark = pytest.mark.skipif(shutil.which("gfortran") is None, reason="gfortran not found")


def fortran_field(tmp_path, n: int, steps: int, energy: float) -> np.ndarray:
    import compiled

    raw = tmp_path / "fortran.raw"
    done = subprocess.run([str(compiled.fortran_reference()), str(n), str(steps), repr(energy),
                           str(raw)], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("heat ")
    # Fortran writes a(1:n, 1:n) column-major, i fastest: that is C order a[j, i].
    return np.fromfile(raw, dtype=np.float64).reshape(n, n)


@pytest.mark.parametrize("name", ["numpy", "f2py"])
def test_equals_fortran_reference(tmp_path, name, same_bits):
    n, steps = 96, 20
    expected = fortran_field(tmp_path, n, steps, 1.0)
    same_bits(approaches.get(name).run(n, steps, 1.0)["field"], expected,
              f"{name} vs fortran/stencil.f90 at n={n}, {steps} steps")
