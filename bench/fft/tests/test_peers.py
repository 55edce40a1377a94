"""bench/fft/peers.py: pyFFTW and mpi4py-fft time the pair only after its round trip checks out
(c2r(r2c(x)) / N == x within 1e-12); a missing package is a skip line, never a failure; and
`calor bench fft` puts the peers' rows in its table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "peers.py"
ROOT = HERE.parents[2]
CALOR = ROOT / "build" / "bin" / "calor"
sys.path.insert(0, str(HERE.parent))

import peers  # noqa: E402


def run_peers(*args: str, env: dict | None = None) -> list[dict]:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def check_timed(record: dict) -> None:
    assert record["roundtrip_ok"] is True, record
    assert record["roundtrip_error"] <= 1e-12
    assert 0 < record["pair_seconds"] <= record["worst_seconds"]
    assert record["plan_seconds"] >= 0
    assert record["gflops"] > 0


def test_pyfftw_round_trip_then_time():
    records = run_peers("--sizes", "16", "--peers", "pyfftw", "--planners", "estimate,measure",
                        "--threads", "1,2", "--reps", "2")
    assert [(r["peer"], r["threads"], r["planner"]) for r in records] == [
        ("pyFFTW", 1, "estimate"), ("pyFFTW", 2, "estimate"),
        ("pyFFTW", 1, "measure"), ("pyFFTW", 2, "measure")]
    for r in records:
        assert r["n"] == 16 and r["ranks"] == 1
        check_timed(r)


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="no mpiexec")
def test_mpi4py_fft_two_ranks():
    records = run_peers("--sizes", "16", "--peers", "mpi4py-fft", "--planners", "estimate",
                        "--ranks", "2", "--reps", "2")
    assert len(records) == 1, records
    r = records[0]
    assert (r["peer"], r["n"], r["ranks"], r["threads"]) == ("mpi4py-fft", 16, 2, 1)
    check_timed(r)


def test_a_failed_round_trip_reports_no_time():
    real = np.zeros((4, 8, 8))
    result = peers.measure(lambda: None, real, 0, 8, reps=2)  # no transform: x, not N x
    assert result["roundtrip_ok"] is False
    assert "pair_seconds" not in result and "no time reported" in result["error"]


def test_missing_packages_are_skipped(tmp_path):
    # Stand-ins that fail to import, ahead of the real packages on the path.
    (tmp_path / "pyfftw.py").write_text("raise ImportError('pyfftw hidden by the test')\n")
    (tmp_path / "mpi4py_fft").mkdir()
    (tmp_path / "mpi4py_fft" / "__init__.py").write_text(
        "raise ImportError('mpi4py_fft hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    records = run_peers("--sizes", "16", "--planners", "estimate", "--ranks", "1", "--reps", "1",
                        env=env)
    assert [r["peer"] for r in records] == ["pyFFTW", "mpi4py-fft"], records
    assert all("skipped" in r and "pair_seconds" not in r for r in records)
    assert "pyfftw hidden by the test" in records[0]["skipped"]


@pytest.mark.skipif(not CALOR.exists(), reason="build/bin/calor is not built")
@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="no mpiexec")
def test_calor_bench_fft_shows_the_peers():
    done = subprocess.run([str(CALOR), "bench", "fft", "--quick", "--sizes", "16", "--threads",
                           "1", "--ranks", "1", "--no-peers"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "pyFFTW" not in done.stdout.split("library")[1]
    env = {**os.environ, "CALOR_PYTHON": sys.executable}
    done = subprocess.run([str(CALOR), "bench", "fft", "--quick", "--sizes", "16", "--threads",
                           "1", "--ranks", "1"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    libraries = {r[2] for r in rows if len(r) == 11 and r[0] == "16"}
    assert {"FFTW", "FFTW-MPI", "pyFFTW", "mpi4py-fft"} <= libraries, done.stdout
