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


# ----------------------------------------------------------------------------- GPU rows (issue 22)


def test_gpu_only_plans_the_gpu_rows():
    args = compare.parse_args(["--gpu-only", "--size", "8", "--steps", "2"])
    assert args.names == compare.GPU_ROWS == list(approaches.GPU) and args.rank_counts == []
    rows = {r.key: r for r in compare.plan(args)}
    assert list(rows) == [f"{name}@1" for name in compare.GPU_ROWS]
    for row in rows.values():
        assert row.kind == "gpu" and list(row.cells) == ["seq"] and row.about
        cell = row.cells["seq"]
        if row.approach in approaches.UNAVAILABLE:  # never dropped: listed, with the reason
            assert cell.status == "skipped" and cell.note.startswith("not run: "), cell.note
        else:
            assert cell.status == "pending"
    # Lines of code are counted where a row cannot run too, the CUDA C file with its rows.
    module = compare.count_lines(compare.APPROACHES_DIR / "cupy_rawkernel.py")
    kernel = compare.count_lines(compare.APPROACHES_DIR / "stencil_kernel.cu")
    assert 10 < kernel < 30 and rows["cupy-rawkernel@1"].lines == str(module + kernel)
    with pytest.raises(SystemExit):
        compare.parse_args(["--gpu-only", "--approaches", "numpy"])


def gpu_row(times: list[float], kernel: list[float], whole: list[float]) -> compare.Row:
    """A measured numba-cuda row: N=100, 10 steps (1e5 cell updates)."""
    row = compare.Row("numba-cuda@1", "numba-cuda", "gpu", "numba-cuda", 1, "a kernel",
                      "numba-cuda@1")
    row.cells["seq"] = compare.Cell(row.key, "seq", 1, 0, 100, 10, status="ok", times=times,
                                    kernel_times=kernel, end_to_end_times=whole)
    return row


def test_gpu_rows_are_set_against_the_device_copy_bandwidth():
    cpu = {"by_threads": {"1": {"gbs": 10.0}, "2": {"gbs": 12.0}}}
    device = {"measured": True, "gbs": 1.0, "device": "a GPU", "how": "a copy"}
    row = gpu_row([0.025, 0.02], [0.01, 0.011], [0.06, 0.05])
    compare.finish_cells([row], cpu, 2, device)
    cell = row.cells["seq"]
    assert (cell.best, cell.kernel_best, cell.end_to_end_best) == (0.02, 0.01, 0.05)
    assert cell.mlups == pytest.approx(5.0)
    # 1e5 updates x 16 B in 0.02 s against the device's 1 GB/s, not the CPU's 10 GB/s.
    assert cell.roofline == pytest.approx(0.08)
    assert cell.kernel_roofline == pytest.approx(0.16)
    results = {"rows": [{**compare.asdict(row), "cells": {"seq": compare.asdict(cell)}}],
               "gpu_bandwidth": device}
    text = "\n".join(report.gpu_section(results))
    assert "GPU copy bandwidth (the GPU rows' roofline): 1.0 GB/s on a GPU" in text
    assert "| numba-cuda | 0.01 | 0.02 ±25% | 0.05 | 10 | 16% | a kernel |" in text

    unmeasured = gpu_row([0.02], [0.01], [0.05])
    compare.finish_cells([unmeasured], cpu, 2, {"measured": False, "why": "no GPU (none)"})
    assert unmeasured.cells["seq"].roofline is None
    assert unmeasured.cells["seq"].kernel_roofline is None


def test_a_gpu_row_that_did_not_run_says_why_in_the_tables():
    cell = compare.Cell("cupy@1", "seq", 1, 0, 8, 2, status="skipped",
                        note="not run: no GPU (no driver here)")
    row = compare.Row("cupy@1", "cupy", "gpu", "cupy", 1, "CuPy", "cupy@1", note=cell.note)
    results = {"rows": [{**compare.asdict(row), "cells": {"seq": compare.asdict(cell)}}],
               "gpu_bandwidth": {"measured": False, "why": "no GPU (no driver here)"}}
    assert report.status_text(compare.asdict(cell)) == "not run: no GPU"
    text = "\n".join(report.gpu_section(results))
    assert "| cupy | not run: no GPU | – |" in text
    assert "GPU copy bandwidth (the GPU rows' roofline): not measured: no GPU (no driver here)." \
        in text
    other = compare.asdict(compare.Cell("x", "seq", 1, 0, 8, 2, status="skipped", note="later"))
    assert report.status_text(other) == "skipped"


@needs_reference
def test_gpu_only_run(tmp_path, monkeypatch):
    """compare.py --gpu-only end to end, with Numba's CUDA simulator standing in for a GPU: the
    numba-cuda rows run, verified and timed (kernel, loop, end to end); the others either run on
    a device or are listed as not run, with the reason; the device bandwidth is measured only on
    a device."""
    pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")
    import gpu

    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    status, results, stderr = run_compare(tmp_path, "--gpu-only", "--size", "16", "--steps", "3",
                                          "--repeat", "2", "--no-plots", timeout=300)
    assert status == 0, stderr[-3000:]
    has_device, why = gpu.device_status()
    by_row = {row["key"]: row for row in results["rows"]}
    assert list(by_row) == [f"{name}@1" for name in compare.GPU_ROWS]
    for name in ("numba-cuda", "numba-cuda-hostloop"):
        row = by_row[f"{name}@1"]
        cell = row["cells"]["seq"]
        assert cell["status"] == "ok" and cell["bits_identical"], cell["note"]
        assert "CUDA simulator" in row["label"]
        assert len(cell["kernel_times"]) == len(cell["end_to_end_times"]) == 2
        assert cell["kernel_best"] <= cell["best"] <= cell["end_to_end_best"]
    text = (tmp_path / "out" / "report.md").read_text()
    for name in ("cupy", "cupy-rawkernel", "pycuda"):
        cell = by_row[f"{name}@1"]["cells"]["seq"]
        if has_device:
            assert cell["status"] == "ok" or cell["note"].startswith("not run: "), cell["note"]
        else:
            assert cell["status"] == "skipped" and cell["note"] == f"not run: no GPU ({why})"
            assert f"| {name} | 1 | not run: no GPU |" in text
    assert results["gpu_bandwidth"]["measured"] is has_device
    if not has_device:
        assert "GPU copy bandwidth (the GPU rows' roofline): not measured: no GPU" in text
    assert "## GPU rows" in text
    assert "# GPU copy bandwidth" in (tmp_path / "out" / "results.csv").read_text()
