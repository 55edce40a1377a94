"""Fixtures for the calor package's tests: the installed package, the comparison study's NumPy
reference, the command line if one is built, and a bit-for-bit comparison."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
APPROACHES = ROOT / "bench" / "approaches"

try:
    import calor  # noqa: F401
except ImportError as e:  # pragma: no cover - a setup mistake, said plainly
    raise ImportError(f"the calor package is not installed ({e}); from the repository root run "
                      ".venv/bin/pip install .") from e


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (deselect with "
                                       "-m 'not slow')")


@pytest.fixture(scope="session")
def numpy_reference():
    """numpy_reference(n, steps, energy=1.0): the case study's final interior computed by the
    comparison study's NumPy approach (bench/approaches/numpy_slicing.py), which its own tests
    hold bit-identical to the Fortran reference. Memoised."""
    sys.path.insert(0, str(APPROACHES))
    try:
        import numpy_slicing
    finally:
        sys.path.remove(str(APPROACHES))
    memo: dict[tuple, np.ndarray] = {}

    def get(n: int, steps: int, energy: float = 1.0) -> np.ndarray:
        key = (n, steps, energy)
        if key not in memo:
            memo[key] = numpy_slicing.run(n, steps, energy)["field"]
        return memo[key]

    return get


def find_cli() -> Path | None:
    """The calor command line: $CALOR_CLI, else build/bin/calor, else the one the Python
    developer builds in build-py/cli (cmake -DCALOR_TESTS=OFF; ninja calor_cli)."""
    candidates = [os.environ.get("CALOR_CLI"), ROOT / "build" / "bin" / "calor",
                  ROOT / "build-py" / "cli" / "bin" / "calor", shutil.which("calor")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


@pytest.fixture(scope="session")
def cli() -> Path:
    path = find_cli()
    if path is None:
        pytest.skip("no calor command line built (build/bin/calor); set CALOR_CLI to use one")
    return path


@pytest.fixture(scope="session")
def run_cli(cli):
    """run_cli(*args): runs the command line, returns its stdout; fails with its stderr."""

    def run(*args: str) -> str:
        done = subprocess.run([str(cli), *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{cli} {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    return run


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Fails unless both are float64 fields of one shape with identical bits."""
    actual, expected = np.ascontiguousarray(actual), np.ascontiguousarray(expected)
    assert actual.dtype == np.float64 and expected.dtype == np.float64, what
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    differ = actual.view(np.uint64) != expected.view(np.uint64)
    if differ.any():
        first = tuple(int(i) for i in np.argwhere(differ)[0])
        pytest.fail(f"{what}: {int(differ.sum())} of {differ.size} cells differ; first at "
                    f"{first}: {actual[first]!r} != {expected[first]!r}")


@pytest.fixture(scope="session")
def same_bits():
    return assert_same_bits


def run_python(code: str, timeout: float = 120, args: list[str] | None = None,
               launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter (optionally under a launcher such as mpiexec)."""
    command = [*(launcher or []), sys.executable, "-c", code, *(args or [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def python_subprocess():
    return run_python
