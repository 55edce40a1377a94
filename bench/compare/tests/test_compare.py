"""The comparison harness: the quick run completes, writes every file and verifies every row;
a deliberately wrong approach is marked WRONG, a slightly different one is not; pure Python is
only ever extrapolated when asked, and then says so; unavailable hooks are skipped with a note.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import approaches
import compare
import report

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent / "compare.py"
CALOR = compare.ROOT / "build" / "bin" / "calor"
FILES = ["results.json", "results.csv", "report.md", *report.PLOTS.values()]

needs_reference = pytest.mark.skipif(
    not CALOR.exists() and shutil.which("gfortran") is None,
    reason="neither build/bin/calor nor gfortran: no reference field")


def run_compare(tmp_path: Path, *args: str, timeout: float = 600,
                through_cli: bool = False) -> tuple[int, dict, str]:
    """Runs compare.py into tmp_path/out, directly or as `calor bench compare`; (exit status,
    results.json, stderr)."""
    out = tmp_path / "out"
    if through_cli:
        # calor finds compare.py in its source tree and this Python through CALOR_PYTHON.
        command = [str(CALOR), "bench", "compare"]
        env = {**os.environ, "CALOR_PYTHON": sys.executable}
    else:
        command, env = [sys.executable, str(SCRIPT)], None
    done = subprocess.run([*command, "--out", str(out), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)
    results_file = out / "results.json"
    assert results_file.exists(), done.stderr[-3000:]
    return done.returncode, json.loads(results_file.read_text()), done.stderr


def cells(results: dict):
    for row in results["rows"]:
        for column, cell in row["cells"].items():
            yield row, column, cell


def csv_rows(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


# ----------------------------------------------------------------------------- verification


def reference(n: int = 24, steps: int = 30) -> compare.Reference:
    import numpy_slicing

    return compare.Reference(numpy_slicing.run(n, steps, 1.0)["field"], "numpy")


@pytest.mark.parametrize("change, status, bits", [
    (lambda f: f, "ok", True),
    (lambda f: f * (1 + 1e-14), "ok", False),
    (lambda f: f * (1 + 1e-9), "WRONG", False),
    (lambda f: np.where(f == f.max(), f.max() * 2, f), "WRONG", False),
    (lambda f: np.full_like(f, np.nan), "WRONG", False),
    (lambda f: f[:-1], "WRONG", False),
])
def test_verify(tmp_path, change, status, bits):
    ref = reference()
    path = tmp_path / "field.npy"
    np.save(path, change(ref.field.copy()))
    cell = compare.Cell("row", "seq", 1, 0, 24, 30)
    compare.verify(cell, path, ref)
    assert cell.status == status, cell.note
    assert cell.bits_identical is bits
    if status == "WRONG":
        assert cell.note


def test_sequential_means_one_thread_everywhere():
    env = compare.thread_env(1)
    assert all(env[name] == "1" for name in compare.THREAD_VARIABLES)
    assert "DEVITO_MPI" not in env
    assert compare.thread_env(4)["NUMBA_NUM_THREADS"] == "4"


def test_unavailable_hook_is_a_skipped_row(monkeypatch):
    monkeypatch.delitem(approaches.APPROACHES, "calor-python", raising=False)
    monkeypatch.setitem(approaches.UNAVAILABLE, "calor-python", "not built here")
    args = compare.parse_args(["--approaches", "calor-python,numpy", "--size", "8", "--steps",
                               "2", "--ranks", "none"])
    rows = compare.plan(args)
    assert [r.key for r in rows] == ["calor-python@1", "numpy@1"]
    skipped = rows[0].cells["seq"]
    assert skipped.status == "skipped" and skipped.note == "not built here"
    assert rows[1].cells["seq"].status == "pending"


def test_plan_has_the_study_columns():
    args = compare.parse_args(["--approaches", "fortran,numpy,numba-parallel,devito,calor",
                               "--threads", "2", "--ranks", "1,2,4", "--size", "8",
                               "--steps", "2"])
    rows = {r.key: r for r in compare.plan(args)}
    mpi = shutil.which("mpiexec") is not None
    # The Fortran row's MPI columns run stencil_mpi.f90, which needs mpif90 to build.
    fortran_mpi = mpi and shutil.which("mpif90") is not None
    assert list(rows["fortran"].cells) == (["seq", "1", "2", "4"] if fortran_mpi else ["seq"])
    assert ("stencil_mpi.f90" in rows["fortran"].about) is fortran_mpi
    assert list(rows["numpy@1"].cells) == (["seq", "1", "2", "4"] if mpi else ["seq"])
    assert list(rows["devito@1"].cells) == (["seq", "1", "2", "4"] if mpi else ["seq"])
    # Threaded approaches: a one-thread (sequential) row and an all-threads row, no MPI.
    assert list(rows["numba-parallel@1"].cells) == ["seq"]
    assert rows["numba-parallel@2"].threads == 2 and rows["numba-parallel@2"].base == \
        "numba-parallel@1"
    # calor: every backend at 1 thread, the threaded ones at all threads; MPI on tiled@1.
    assert {k for k in rows if k.startswith("calor-")} == {
        "calor-serial@1", "calor-simd@1", "calor-threads@1", "calor-threads@2",
        "calor-tiled@1", "calor-tiled@2", "calor-auto@1", "calor-auto@2"}
    assert list(rows["calor-tiled@1"].cells) == (["seq", "1", "2", "4"] if mpi else ["seq"])


def test_update_measures_columns_added_since(tmp_path):
    # An earlier run whose Fortran row had no MPI columns: --update --rows fortran measures
    # the columns that plan() gives it now, and leaves every other row as it was.
    args = compare.parse_args(["--approaches", "fortran,numpy", "--ranks", "1,2", "--size",
                               "8", "--steps", "2"])
    planned = {r.key: r for r in compare.plan(args)}
    old_fortran = compare.Row("fortran", "Fortran (F90, gfortran)", "fortran", "fortran", 1,
                              "sequential only", "fortran")
    old_fortran.cells["seq"] = compare.Cell("fortran", "seq", 1, 0, 8, 2, status="ok",
                                            times=[1.0])
    numpy_row = planned["numpy@1"]
    for cell in numpy_row.cells.values():
        cell.status, cell.times = "ok", [2.0]
    previous = {"rows": [{**{k: v for k, v in compare.asdict(row).items() if k != "cells"},
                          "cells": {c: compare.asdict(x) for c, x in row.cells.items()}}
                         for row in (old_fortran, numpy_row)]}
    rows = {r.key: r for r in compare.reload_rows(previous, ["fortran"], planned)}
    assert list(rows["fortran"].cells) == list(planned["fortran"].cells)
    assert all(c.status == "pending" and not c.times for c in rows["fortran"].cells.values())
    assert rows["fortran"].about == planned["fortran"].about
    assert all(c.status == "ok" and c.times == [2.0] for c in rows["numpy@1"].cells.values())
    # fortran:2 alone: the earlier sequential cell is kept, the other new columns left out.
    rows = {r.key: r for r in compare.reload_rows(previous, {"fortran": {"2"}}, planned)}
    if "2" in planned["fortran"].cells:
        assert list(rows["fortran"].cells) == ["seq", "2"]
        assert rows["fortran"].cells["2"].status == "pending"
    assert rows["fortran"].cells["seq"].status == "ok"
    assert rows["fortran"].cells["seq"].times == [1.0]
    # Without a plan for the row, its old columns are measured again.
    rows = {r.key: r for r in compare.reload_rows(previous, ["fortran"])}
    assert list(rows["fortran"].cells) == ["seq"] and rows["fortran"].about == "sequential only"


# ----------------------------------------------------------------------------- runs


@needs_reference
def test_wrong_approach_is_marked_wrong(tmp_path):
    ranks = "2" if shutil.which("mpiexec") else "none"
    status, results, stderr = run_compare(
        tmp_path, "--approaches", "numpy,wrong-fake,nearly-right", "--size", "64", "--steps",
        "12", "--ranks", ranks, "--repeat", "1", "--extra-registry",
        str(HERE / "fake_registry.py"), timeout=300)
    assert status == 1, stderr  # a WRONG result fails the run
    by_row = {row["key"]: row for row in results["rows"]}
    wrong = by_row["wrong-fake@1"]["cells"]
    for column, cell in wrong.items():
        assert cell["status"] == "WRONG", (column, cell)
        assert cell["times"], "a WRONG cell is still measured, just never shown as a time"
        assert max(cell["rel_errors"].values()) > compare.TOLERANCE
    if ranks == "2":
        assert set(wrong) == {"seq", "2"}
    nearly = by_row["nearly-right@1"]["cells"]["seq"]
    assert nearly["status"] == "ok" and nearly["bits_identical"] is False
    assert 0 < max(nearly["rel_errors"].values()) <= compare.TOLERANCE
    numpy_cell = by_row["numpy@1"]["cells"]["seq"]
    assert numpy_cell["status"] == "ok" and numpy_cell["bits_identical"] is True

    text = (tmp_path / "out" / "report.md").read_text()
    line = next(l for l in text.splitlines() if l.startswith("| wrong-fake |"))
    assert line.count("**WRONG**") >= len(wrong)  # every column, and the check column
    assert "wrong-fake" in stderr and "WRONG" in stderr
    statuses = {(r["row"], r["column"]): r["status"] for r in
                csv_rows(tmp_path / "out" / "results.csv")}
    assert statuses[("wrong-fake@1", "seq")] == "WRONG"
    assert statuses[("nearly-right@1", "seq")] == "ok"


@needs_reference
def test_pure_python_is_extrapolated_only_when_asked(tmp_path):
    common = ["--approaches", "python", "--size", "96", "--steps", "20", "--ranks", "none",
              "--repeat", "1", "--python-limit", "1000", "--no-plots"]
    status, results, _ = run_compare(tmp_path / "a", *common)
    cell = results["rows"][0]["cells"]["seq"]
    assert status == 0 and cell["status"] == "skipped" and "--extrapolate-python" in cell["note"]

    status, results, _ = run_compare(tmp_path / "b", *common, "--extrapolate-python",
                                     "--python-size", "48", "--python-steps", "10")
    cell = results["rows"][0]["cells"]["seq"]
    assert status == 0 and cell["status"] == "ok" and cell["extrapolated"] is True
    assert (cell["measured_n"], cell["measured_steps"]) == (48, 10)
    assert (cell["n"], cell["steps"]) == (96, 20)
    assert "extrapolated" in cell["note"]
    text = (tmp_path / "b" / "out" / "report.md").read_text()
    assert "(extrapolated)" in next(l for l in text.splitlines() if l.startswith("| python |"))


@pytest.mark.slow
@needs_reference
def test_quick_run(tmp_path):
    # As a user runs it: `calor bench compare --quick` (compare.py itself without a build).
    status, results, stderr = run_compare(tmp_path, "--quick", timeout=900,
                                          through_cli=CALOR.exists())
    assert status == 0, stderr[-3000:]
    out = tmp_path / "out"
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert results["case"]["quick"] and results["case"]["n"] == 480
    # The brief asks for under 3 minutes; timings are reported, never asserted.
    print(f"quick run: {results['elapsed_seconds']:.0f} s")
    seen = set()
    for row, column, cell in cells(results):
        assert cell["status"] in ("ok", "skipped"), (row["key"], column, cell["note"])
        if cell["status"] == "skipped":
            assert cell["note"], (row["key"], column)
            continue
        seen.add(row["approach"])
        assert cell["times"] and cell["best"] > 0
        assert max(cell["rel_errors"].values()) <= compare.TOLERANCE
    expected = {"fortran", "python", "numpy", "numba", "numba-parallel", "cython", "f2py",
                "devito", "devito-openmp", "pystencils", "pystencils-openmp", "ctypes",
                "futures", "multiprocessing", "dask-array", "dask-distributed"}
    if CALOR.exists():
        expected |= set(compare.CALOR_BACKENDS)
    assert expected <= seen
    # Sequential rows ran on one thread; the MPI columns are there.
    by_row = {row["key"]: row for row in results["rows"]}
    assert by_row["numba@1"]["cells"]["seq"]["threads"] == 1
    if shutil.which("mpiexec"):
        assert by_row["numpy@1"]["cells"]["2"]["status"] == "ok"
        assert by_row["devito@1"]["cells"]["2"]["status"] == "ok"
    if shutil.which("mpiexec") and shutil.which("mpif90"):
        for column in ("1", "2"):
            cell = by_row["fortran"]["cells"][column]
            assert cell["status"] == "ok" and cell["bits_identical"], (column, cell["note"])
    text = (out / "report.md").read_text()
    for title in ("## 1. Time", "## 2. Speed-up", "## 3. Parallel efficiency"):
        assert title in text
    # Issue 21: the quick run says its timings mean nothing; every row has its lines of code.
    assert "these timings are not meaningful" in text
    assert "| lines | check |" in text
    assert by_row["ctypes@1"]["lines"].split()[0].isdigit()
    assert by_row["fortran"]["lines"].endswith(" MPI") or not shutil.which("mpif90")
    assert not [line for line in text.splitlines() if line.startswith("|") and "WRONG" in line]
    csv_lines = csv_rows(out / "results.csv")
    assert len(csv_lines) == sum(1 for _ in cells(results))
    assert results["machine"]["cpu_model"] and results["bandwidth"]["by_threads"]["1"]["gbs"] > 0
    assert results["machine"]["versions"]["numpy"]
