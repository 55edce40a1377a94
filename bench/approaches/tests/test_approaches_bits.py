"""Every approach gives the plain reference loop's final field bit for bit, and conserves heat
while the sources are farther from the boundary than the number of steps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import approaches
import case
from decomposition import Block, split

NAMES = list(approaches.APPROACHES)


@pytest.mark.parametrize("n, steps", [(48, 10), (37, 10), (3, 4)])
@pytest.mark.parametrize("name", NAMES)
def test_bits_equal_reference(name, n, steps, reference, same_bits):
    # An energy of 0.1 (not 1.0): with 1.0 every value of these short runs is exact in binary,
    # so a reordered sum would give the same bits and this test could not fail.
    approach = approaches.get(name)
    result = approach.run(n, steps, 0.1)
    if approach.reorders:  # the same sums in another order: equal to rounding only
        np.testing.assert_allclose(result["field"], reference(n, steps, 0.1), rtol=1e-13,
                                   atol=1e-300)
    else:
        same_bits(result["field"], reference(n, steps, 0.1), f"{name} n={n} steps={steps}")
    assert result["seconds"] >= 0 and result["compile_seconds"] >= 0


def boundary_distance(n: int) -> int:
    """Steps before heat first reaches the halo: a source's distance to the last cell."""
    one_based = [n // 2, n // 3, n * 4 // 5, n * 8 // 9]
    return min(min(c - 1, n - c) for c in one_based)


@pytest.mark.parametrize("name", NAMES)
def test_heat_is_three_energy_steps(name):
    n, steps, energy = 100, 10, 0.75
    assert boundary_distance(n) >= steps  # otherwise heat leaks through the halo, rightly
    heat = case.summary(approaches.get(name).run(n, steps, energy)["field"])["heat"]
    assert heat == pytest.approx(3 * energy * steps, rel=1e-12, abs=0)


def test_heat_leaks_once_sources_reach_the_boundary(reference):
    # N=48: the third source is 6 cells from the edge, so after 10 steps heat has left.
    assert boundary_distance(48) < 10
    assert reference(48, 10).sum() < 30 - 1e-6


def test_sources_of_the_study():
    # 1-based (i, j) (2400, 2400), (1600, 1600), (3840, 4266), as 0-based (j, i).
    assert case.sources(4800) == [(2399, 2399), (1599, 1599), (4265, 3839)]
    with pytest.raises(ValueError, match="n >= 3"):
        case.sources(2)


def test_numba_parallel_on_two_threads(reference, same_bits):
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has one thread here")
    result = approaches.get("numba-parallel").run(37, 10, 1.0, threads=2)
    same_bits(result["field"], reference(37, 10), "numba-parallel, 2 threads")


@pytest.mark.parametrize("name", [n for n, a in approaches.APPROACHES.items() if not a.threaded])
def test_serial_approaches_refuse_threads(name):
    with pytest.raises(ValueError, match="one thread"):
        approaches.get(name).run(8, 1, 1.0, threads=2)


def test_unknown_approach_lists_the_known_ones():
    with pytest.raises(ValueError, match="numpy"):
        approaches.get("julia")


@pytest.mark.parametrize("n", [1, 5, 37, 48])
@pytest.mark.parametrize("parts", [1, 2, 3, 4, 5])
def test_split_tiles_the_axis(n, parts):
    if parts > n:
        with pytest.raises(ValueError):
            split(n, parts, 0)
        return
    blocks = [split(n, parts, k) for k in range(parts)]
    assert blocks[0][0] == 0 and sum(size for _, size in blocks) == n
    assert all(a[0] + a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert max(s for _, s in blocks) - min(s for _, s in blocks) <= 1


@pytest.mark.parametrize("dims", [(1, 1), (2, 1), (3, 1), (2, 2), (3, 2), (2, 3), (7, 3)])
def test_blocks_tile_the_grid_and_own_each_source_once(dims):
    n = 37
    owners = np.zeros((n, n), dtype=int)
    blocks = [Block.of(n, dims, (a, b)) for a in range(dims[0]) for b in range(dims[1])]
    for block in blocks:
        owners[block.slices()] += 1
    assert (owners == 1).all()
    for cell in case.sources(n):
        assert sum(block.local(cell) is not None for block in blocks) == 1


def test_run_approach_cli(tmp_path, reference, same_bits):
    out, npy = tmp_path / "result.json", tmp_path / "field.npy"
    script = Path(__file__).resolve().parent.parent / "run_approach.py"
    done = subprocess.run([sys.executable, str(script), "--approach", "numpy", "--n", "37",
                           "--steps", "10", "--out", str(out), "--save-npy", str(npy)],
                          capture_output=True, text=True, check=True)
    record = json.loads(done.stdout)
    assert record == json.loads(out.read_text())
    assert {"name", "n", "steps", "threads", "ranks", "seconds", "compile_seconds", "heat", "l2",
            "max"} <= record.keys()
    field = np.load(npy)
    same_bits(field, reference(37, 10), "run_approach.py --save-npy")
    assert record["heat"] == float(field.sum())
    assert record["l2"] == pytest.approx(float(np.sqrt((field**2).sum())), rel=1e-15)
    assert record["max"] == float(field.max())


@pytest.mark.parametrize("name", ["futures", "multiprocessing", "dask-array", "dask-distributed"])
def test_parallel_python_rows_on_two_workers(name, reference, same_bits):
    """The study's missing rows (issue 21) at 2 threads or processes: the reference's bits."""
    if name.startswith("dask"):
        pytest.importorskip("distributed")
    result = approaches.get(name).run(37, 10, 0.1, threads=2)
    same_bits(result["field"], reference(37, 10, 0.1), f"{name} on 2 workers")


def test_ipyparallel_on_three_engines(reference, same_bits):
    """The ipyparallel row (issue 21) on 3 MPI engines, a 3 x 1 process grid: the same bits."""
    pytest.importorskip("ipyparallel")
    result = approaches.get("ipyparallel").run(37, 10, 0.1, threads=3)
    assert result["dims"] == [3, 1]
    same_bits(result["field"], reference(37, 10, 0.1), "ipyparallel on 3 engines")
