"""calor.Simulation(comm=MPI.COMM_WORLD) under mpiexec: each rank holds its block, and gather()
gives the serial field bit for bit, for prime rank counts and grids the ranks do not divide."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

import calor

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec")
pytestmark = [
    pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (Open MPI)"),
    pytest.mark.skipif(not calor.have_mpi, reason="calor was built without MPI"),
]

SCRIPT = r"""
import json, sys
import numpy as np
from mpi4py import MPI
import calor

settings, out, backend = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
comm = MPI.COMM_WORLD
sim = calor.Simulation(calor.Problem(**settings), backend=backend, threads=1, comm=comm)
sim.run(progress=False)
stats = sim.stats()
field = sim.gather()
# Every rank checks that its view is its block of the gathered field.
whole = comm.bcast(field, root=0)
own = bool(np.array_equal(whole[sim.box], sim.field))
owns = comm.gather(own, root=0)
shapes = comm.gather(sim.field.shape, root=0)
if comm.rank == 0:
    np.save(out, field)
    print(json.dumps({"ranks": sim.ranks, "decomposition": sim.decomposition,
                      "stats": list(stats), "owns": owns, "shapes": shapes,
                      "backend": sim.backend}))
else:
    assert field is None
"""


def mpi_run(tmp_path, python_subprocess, ranks: int, settings: dict, backend: str = "auto"):
    out = tmp_path / f"field-{ranks}.npy"
    launcher = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", str(ranks)]
    done = python_subprocess(SCRIPT, timeout=120,
                             args=[json.dumps(settings), str(out), backend], launcher=launcher)
    assert done.returncode == 0, f"{ranks} ranks\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1]), np.load(out)


def serial(settings: dict):
    sim = calor.Simulation(calor.Problem(**settings), threads=1)
    sim.run(progress=False)
    return sim.field.copy(), sim.stats()


@pytest.mark.parametrize("ranks", [2, 3])
def test_gather_equals_the_serial_field(tmp_path, python_subprocess, same_bits, ranks):
    settings = {"preset": "stencil", "n": 37, "steps": 10}
    record, field = mpi_run(tmp_path, python_subprocess, ranks, settings)
    expected, stats = serial(settings)
    same_bits(field, expected, f"stencil on {ranks} ranks ({record['decomposition']})")
    assert record["ranks"] == ranks and all(record["owns"])
    assert record["stats"] == list(stats)
    # The blocks tile the grid: their cells add up to the whole.
    assert sum(a * b for a, b in record["shapes"]) == 37 * 37


@pytest.mark.parametrize("preset", ["stencil", "gaussian2d"])
def test_tiled_backend_on_two_ranks(tmp_path, python_subprocess, same_bits, preset):
    # Temporal blocking across ranks: wider halos exchanged every few steps.
    settings = {"preset": preset, "n": 40, "steps": 17}
    record, field = mpi_run(tmp_path, python_subprocess, 2, settings, backend="tiled")
    assert record["backend"] == "tiled"
    same_bits(field, serial(settings)[0], f"{preset}, tiled on 2 ranks")
    assert all(record["owns"])


def test_periodic_3d_on_three_ranks(tmp_path, python_subprocess, same_bits):
    settings = {"preset": "gaussian3d", "n": 12, "steps": 6}
    record, field = mpi_run(tmp_path, python_subprocess, 3, settings)
    expected, _ = serial(settings)
    same_bits(field, expected, f"gaussian3d on 3 ranks ({record['decomposition']})")
    assert all(record["owns"])


def test_comm_without_mpi_running_is_explained(python_subprocess):
    # An mpi4py-like object whose handle is garbage must not crash: MPI is not initialised
    # here because mpi4py.MPI was never imported.
    code = ("import calor\n"
            "class Comm:\n"
            "    def py2f(self): return 0\n"
            "try:\n"
            "    calor.Simulation(calor.presets.stencil(n=8, steps=1), comm=Comm())\n"
            "except RuntimeError as e:\n"
            "    print(e)\n")
    done = python_subprocess(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "import mpi4py.MPI first" in done.stdout


def test_a_single_rank_communicator_works(tmp_path, python_subprocess, same_bits):
    code = (SCRIPT.replace("comm = MPI.COMM_WORLD", "comm = MPI.COMM_SELF"))
    out = tmp_path / "self.npy"
    settings = {"preset": "stencil", "n": 20, "steps": 4}
    done = python_subprocess(code, timeout=60, args=[json.dumps(settings), str(out), "auto"])
    assert done.returncode == 0, done.stderr
    same_bits(np.load(out), serial(settings)[0], "COMM_SELF")


def test_ctrl_c_on_one_rank_stops_every_rank_at_the_same_step(tmp_path, python_subprocess,
                                                              same_bits):
    code = r"""
import json, os, signal, sys, threading
import numpy as np
from mpi4py import MPI
import calor
comm = MPI.COMM_WORLD
problem = calor.presets.stencil(n=300, steps=10**7)
sim = calor.Simulation(problem, backend="simd", threads=1, comm=comm)
if comm.rank == 1:  # only this rank is interrupted
    threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    sim.run(progress=False)
    stopped = False
except KeyboardInterrupt:
    stopped = True
counts = comm.gather((sim.step_count, stopped), root=0)
field = sim.gather()
if comm.rank == 0:
    np.save(sys.argv[1], field)
    print(json.dumps({"counts": counts}))
"""
    out = tmp_path / "stopped.npy"
    launcher = [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-n", "3"]
    done = python_subprocess(code, timeout=120, args=[str(out)], launcher=launcher)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    counts = json.loads(done.stdout.strip().splitlines()[-1])["counts"]
    steps = counts[0][0]
    assert all(c == [steps, True] for c in counts), counts
    assert 0 < steps < 10**7
    sim = calor.Simulation(calor.presets.stencil(n=300, steps=steps), threads=1)
    sim.run(progress=False)
    same_bits(np.load(out), sim.field, f"stopped at step {steps} on 3 ranks")


def test_an_mpi4py_on_another_mpi_library_is_refused(python_subprocess):
    code = ("from mpi4py import MPI\n"
            "import calor, calor._calor\n"
            "calor._calor.mpi_library = lambda: 'Some Other MPI v1'\n"
            "try:\n"
            "    calor.Simulation(calor.presets.stencil(n=8, steps=1), comm=MPI.COMM_WORLD)\n"
            "except RuntimeError as e:\n"
            "    print(e)\n")
    done = python_subprocess(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "mpi4py uses another MPI library than calor" in done.stdout
