"""calor.Simulation: the same bits as the command line, the field without copies, strict input,
the GIL released while stepping, Ctrl-C at a whole step."""

from __future__ import annotations

import json
import pydoc
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

import calor

STUDY_N, STUDY_STEPS = 480, 50


def numpy_step(u: np.ndarray) -> np.ndarray:
    """One step of the stencil preset from interior `u` (Dirichlet 0 halo), in the study's
    operation order, without its sources."""
    a = np.pad(u, 1)
    return 0.5 * (a[1:-1, 1:-1] + 0.25 * (a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1]))


# ---- the same bits as the command line and the comparison study ------------------------------

def test_case_study_matches_the_command_line(tmp_path, run_cli, same_bits):
    out = tmp_path / "out.npy"
    run_cli("run", "--preset", "stencil", "--n", str(STUDY_N), "--steps", str(STUDY_STEPS),
            "--no-progress", "--save-npy", str(out))
    sim = calor.Simulation(calor.presets.stencil(n=STUDY_N, steps=STUDY_STEPS))
    sim.run(progress=False)
    same_bits(sim.field, np.load(out), "calor.Simulation vs calor run --save-npy")


def test_case_study_matches_the_numpy_reference(numpy_reference, same_bits):
    sim = calor.Simulation(calor.presets.stencil(n=STUDY_N, steps=STUDY_STEPS))
    sim.run(progress=False)
    same_bits(sim.field, numpy_reference(STUDY_N, STUDY_STEPS), "calor vs numpy_slicing")
    stats = sim.stats()
    assert stats.heat == 3 * 1.0 * STUDY_STEPS
    assert stats == calor.Stats(*sim._stats()) and stats._fields == ("heat", "min", "max", "l2")


@pytest.mark.parametrize("backend", ["serial", "simd", "threads", "tiled"])
def test_every_backend_gives_the_same_bits(backend, numpy_reference, same_bits):
    sim = calor.Simulation(calor.presets.stencil(n=97, steps=23), backend=backend)
    sim.run(progress=False)
    assert sim.backend == backend and sim.backend_reason == "chosen by the user"
    same_bits(sim.field, numpy_reference(97, 23), backend)


def test_tile_keys_reach_the_tiled_backend(numpy_reference, same_bits):
    # Column strips 5 wide, 3 steps deep, on 2 threads: the same bits as the study's reference.
    problem = calor.presets.stencil(n=97, steps=23, tile_width=5, tile_depth=3)
    sim = calor.Simulation(problem, backend="tiled", threads=2)
    sim.run(progress=False)
    same_bits(sim.field, numpy_reference(97, 23), "tiled, tile_width 5")
    with pytest.raises(ValueError, match="tile_width.*1 is out of range"):
        calor.presets.stencil(n=97, tile_width=1)


def test_run_takes_whole_tiled_blocks_per_chunk(numpy_reference, same_bits):
    # Between progress calls the tiled backend runs whole blocks (3 steps deep here): a chunk
    # cut inside a block would run it shallower.
    problem = calor.presets.stencil(n=97, steps=23, tile_width=5, tile_depth=3)
    sim = calor.Simulation(problem, backend="tiled", threads=2)
    calls = []
    sim.run(progress=lambda step, total, s: calls.append(step))
    assert calls[0] == 3 and calls[-1] == 23
    assert all(step % 3 == 0 for step in calls[:-1]), calls
    same_bits(sim.field, numpy_reference(97, 23), "tiled, chunks of whole blocks")


def test_auto_says_what_it_chose_and_why():
    sim = calor.Simulation(calor.presets.stencil(n=64, steps=1))
    assert sim.backend in calor.backends() and sim.backend != "auto"
    assert sim.backend_reason.startswith("auto: ")
    assert sim.threads >= 1
    assert calor.Simulation(calor.presets.stencil(n=64, steps=1), threads=1).threads == 1


def test_json_of_the_command_line_agrees_on_the_stats(run_cli):
    record = json.loads(run_cli("run", "--preset", "stencil", "--n", "96", "--steps", "20",
                                "--json", "--no-progress"))
    sim = calor.Simulation(calor.presets.stencil(n=96, steps=20))
    sim.run(progress=False)
    s = sim.stats()
    assert (record["heat"], record["min"], record["max"], record["l2"]) == tuple(s)
    assert record["backend"] == sim.backend


# ---- the field: a view, not a copy -----------------------------------------------------------

def test_field_is_a_view_of_the_engines_memory():
    sim = calor.Simulation(calor.presets.stencil(n=40, steps=5))
    sim.step(3)
    u = sim.field
    assert u.shape == (40, 40) and u.dtype == np.float64 and u.flags.writeable
    assert u.__array_interface__["data"][0] == sim._address()
    assert u.strides[1] == 8 and u.strides[0] > 40 * 8  # x contiguous, the halo skipped
    assert np.shares_memory(u, sim.field)
    assert np.shares_memory(u, np.from_dlpack(sim))
    assert sim.__dlpack_device__() == (1, 0)


def test_a_write_through_the_view_shows_in_the_next_step(same_bits):
    sim = calor.Simulation(calor.Problem(preset="none", dim=2, n=[30, 20], steps=3,
                                         form="factored", dt=0.125))
    rng = np.random.default_rng(1)
    start = rng.random((20, 30))
    sim.field[...] = start
    sim.step(1)
    same_bits(sim.field, numpy_step(start), "one step after writing through the view")
    np.from_dlpack(sim)[5, 7] = 42.0  # DLPack gives the same memory
    assert sim.field[5, 7] == 42.0


@pytest.mark.parametrize("backend", ["serial", "simd", "threads", "tiled"])
def test_a_written_field_refills_the_periodic_halo(backend, same_bits):
    def periodic_step(u):
        left, right = np.roll(u, 1, axis=1), np.roll(u, -1, axis=1)
        below, above = np.roll(u, 1, axis=0), np.roll(u, -1, axis=0)
        return 0.5 * (u + 0.25 * (left + right + below + above))

    sim = calor.Simulation(calor.Problem(preset="none", dim=2, n=[40, 32], form="factored",
                                         dt=0.125, boundary={"all": "periodic"}, steps=30),
                           backend=backend)
    u = np.random.default_rng(3).random((32, 40))
    sim.field[...] = u
    sim.step(30)
    for _ in range(30):
        u = periodic_step(u)
    same_bits(sim.field, u, f"{backend}: 30 periodic steps from a field written in Python")


def test_a_view_is_valid_until_the_next_step():
    sim = calor.Simulation(calor.presets.stencil(n=16, steps=4))
    before = sim.field
    sim.step(1)
    # The engine swapped its two buffers: the old view now shows the other one.
    assert not np.shares_memory(before, sim.field)
    assert sim.field.__array_interface__["data"][0] == sim._address()


def test_views_keep_the_memory_alive_not_the_simulation():
    import gc
    import weakref
    sim = calor.Simulation(calor.presets.stencil(n=16, steps=4))
    sim.step(2)
    u, expected = sim.field, sim.field.copy()
    capsule_view = np.from_dlpack(sim)
    alive = weakref.ref(sim)
    del sim
    gc.collect()
    assert alive() is None  # the Python object goes; the engine's memory stays with the views
    assert np.array_equal(u, expected) and np.array_equal(capsule_view, expected)
    del u, capsule_view
    gc.collect()


def test_a_view_outliving_its_simulation_leaks_nothing_at_exit(python_subprocess):
    # A DLPack capsule or view alive at interpreter exit used to make nanobind report leaked
    # Simulation and Problem instances.
    code = ("import numpy as np, calor\n"
            "sim = calor.Simulation(calor.presets.stencil(n=16, steps=2))\n"
            "sim.run(progress=False)\n"
            "u, cap = np.from_dlpack(sim), sim.__dlpack__()\n"
            "del sim\n"
            "print(float(u.sum()))\n")
    done = python_subprocess(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6.0"
    assert "leaked" not in done.stderr, done.stderr


def test_one_and_three_dimensional_views():
    d1 = calor.Simulation(calor.presets.diffusion1d(n=50, steps=2))
    assert d1.field.shape == (50,) and d1.field.strides == (8,)
    d3 = calor.Simulation(calor.Problem(preset="none", dim=3, n=[4, 5, 6], steps=1))
    u = d3.field
    assert u.shape == (6, 5, 4)
    u[...] = np.arange(120.0).reshape(6, 5, 4)
    assert np.array_equal(d3.gather(), np.arange(120.0).reshape(6, 5, 4))
    assert np.shares_memory(u, np.from_dlpack(d3))


def test_gather_copies_and_box_covers_the_grid():
    sim = calor.Simulation(calor.presets.stencil(n=24, steps=3))
    sim.run(progress=False)
    g = sim.gather()
    assert np.array_equal(g, sim.field) and not np.shares_memory(g, sim.field)
    assert sim.box == (slice(0, 24), slice(0, 24))
    assert np.array_equal(g[sim.box], sim.field)
    assert (sim.rank, sim.ranks, sim.decomposition) == (0, 1, "1 process")


# ---- strict input ------------------------------------------------------------------------------

@pytest.mark.parametrize("array, received", [
    (np.zeros((20, 30), dtype=np.float32), "got dtype float32, shape (20, 30), C-contiguous"),
    (np.zeros((20, 30), dtype=np.int64), "got dtype int64, shape (20, 30), C-contiguous"),
    (np.zeros((30, 20)), "got dtype float64, shape (30, 20), C-contiguous"),
    (np.zeros(600), "got dtype float64, shape (600,), C-contiguous"),
    (np.asfortranarray(np.zeros((20, 30))), "got dtype float64, shape (20, 30), not C-contiguous"),
    (np.zeros((20, 60))[:, ::2], "got dtype float64, shape (20, 30), not C-contiguous"),
    ([[0.0] * 30] * 20, "got list"),
])
def test_set_field_refuses_what_it_would_have_to_convert(array, received):
    sim = calor.Simulation(calor.Problem(preset="none", dim=2, n=[30, 20], steps=1))
    sim.field[...] = 7.0
    expected = "expected a C-contiguous float64 array of shape (20, 30)"
    with pytest.raises(ValueError) as e:
        sim.set_field(array)
    assert expected in str(e.value) and received in str(e.value)
    with pytest.raises(ValueError, match="expected a C-contiguous float64"):
        sim.field = array
    assert (sim.field == 7.0).all(), "a refused array must leave the state alone"


def test_set_field_and_assignment_copy_in():
    sim = calor.Simulation(calor.Problem(preset="none", dim=2, n=[30, 20], steps=1))
    a = np.random.default_rng(2).random((20, 30))
    sim.set_field(a)
    assert np.array_equal(sim.field, a) and not np.shares_memory(a, sim.field)
    sim.field = a * 2
    assert np.array_equal(sim.field, a * 2)
    sim.field = sim.field  # itself: nothing to do
    assert np.array_equal(sim.field, a * 2)
    with pytest.raises(ValueError, match=r"got dtype float64, shape \(10, 30\), not C-cont"):
        sim.field = sim.field[:10]  # starts at the same address, but is not the field
    sim.set_field(np.ascontiguousarray(a[::-1]))  # a reversed copy is contiguous again
    assert np.array_equal(sim.field, a[::-1])


def test_bad_arguments():
    p = calor.presets.stencil(n=16, steps=2)
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        calor.Simulation(p, backend="gpu")
    with pytest.raises(ValueError, match="threads must be >= 0"):
        calor.Simulation(p, threads=-1)
    with pytest.raises(TypeError, match="problem must be a calor.Problem"):
        calor.Simulation({"n": 16})
    with pytest.raises(TypeError, match="comm must be an mpi4py communicator"):
        calor.Simulation(p, comm=3)
    sim = calor.Simulation(p)
    with pytest.raises(ValueError, match="cannot step backwards"):
        sim.step(-1)


def test_a_blow_up_is_caught_as_calor_run_catches_it():
    p = calor.Problem(n=32, steps=5000, dt=0.3, allow_unstable=True, check_every=50)
    sim = calor.Simulation(p)
    with pytest.raises(calor.Error, match=r"the solution blew up by step \d+: u = .* r = "
                                          r"alpha\*dt\*sum\(1/h\^2\) = 0.6 exceeds"):
        sim.run(progress=False)
    assert sim.step_count < 5000  # stopped at the first check after the blow-up
    nan = calor.Simulation(calor.presets.stencil(n=16, steps=3))
    nan.field[4, 5] = np.nan
    with pytest.raises(calor.Error, match=r"by step 3: u = nan at cell \(\d+, \d+\)"):
        nan.run(progress=False)  # checked at the last step at least


# ---- time, steps, run ----------------------------------------------------------------------------

def test_step_count_time_and_run_takes_the_remaining_steps():
    sim = calor.Simulation(calor.presets.stencil(n=96, steps=10))
    sim.step(0)
    assert (sim.step_count, sim.time) == (0, 0.0)
    sim.step()
    sim.step(3)
    assert (sim.step_count, sim.time) == (4, 0.5)
    calls = []
    seconds = sim.run(progress=lambda step, total, s: calls.append((step, total)))
    assert sim.step_count == 10 and seconds >= 0 and calls[-1] == (10, 10)
    assert sim.run() == 0.0 and sim.step_count == 10
    assert sim.stats().heat == 30.0
    assert repr(sim) == "<calor.Simulation stencil 96 x 96, step 10/10, backend " + repr(sim.backend) + ">"


def test_text_progress_bar_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    calor.Simulation(calor.presets.stencil(n=16, steps=5)).run()
    err = capsys.readouterr().err
    assert "calor: 100%  5/5 steps" in err


def test_text_progress_bar_in_a_terminal():
    from calor._progress import TextBar

    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    out = Tty()
    bar = TextBar(100, stream=out)
    bar.update(50, 100, 1.0)
    bar.update(100, 100, 2.0)
    bar.close()
    assert "\rcalor [###############...............]  50%  50/100 steps  1.0 s, 1.0 s left" in out.text
    # The last line is padded over what the longer one before it left on the screen.
    last = out.text.rsplit("\r", 1)[1]
    assert last == "calor [##############################] 100%  100/100 steps  2.0 s" + \
        " " * 11 + "\n"


def test_tqdm_is_used_when_installed(monkeypatch):
    made = []

    class FakeTqdm:
        def __init__(self, total, initial, **kw):
            self.n, self.total, self.closed = initial, total, False
            made.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    sim = calor.Simulation(calor.presets.stencil(n=16, steps=8))
    sim.step(3)
    sim.run()
    assert made and made[0].n == 8 and made[0].total == 8 and made[0].closed


# ---- threads and signals -----------------------------------------------------------------------

def test_the_gil_is_released_while_stepping():
    sim = calor.Simulation(calor.presets.stencil(n=1000, steps=10_000), threads=1,
                           backend="serial")
    t0 = time.perf_counter()
    sim.step(2)
    per_step = (time.perf_counter() - t0) / 2
    steps = max(4, int(0.6 / per_step))
    worker = threading.Thread(target=sim.step, args=(steps,))
    ticks, refused = 0, 0
    worker.start()
    while worker.is_alive():
        ticks += 1  # Python code running beside the engine
        try:
            sim.stats()
        except RuntimeError as e:
            assert "stepping in another thread" in str(e)
            refused += 1
        time.sleep(0.001)
    worker.join()
    assert sim.step_count == 2 + steps
    assert ticks > 50, f"the main thread ran only {ticks} times while the engine stepped"
    assert refused > 0, "reading the state while another thread steps it must be refused"


def test_ctrl_c_stops_run_within_a_second_at_a_whole_step(python_subprocess):
    code = r"""
import json, os, signal, threading, time
import numpy as np
import calor
p = calor.presets.stencil(n=1500, steps=1_000_000)
# One thread: a busy machine can stall an OpenMP step for seconds, and a step is never cut.
sim = calor.Simulation(p, backend="simd", threads=1)
fired = {}
def interrupt():
    fired["at"] = time.monotonic()
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(0.8, interrupt).start()
try:
    sim.run(progress=False)
    raise SystemExit("run() was not interrupted")
except KeyboardInterrupt:
    latency = time.monotonic() - fired["at"]
again = calor.Simulation(p, backend="serial")
again.step(sim.step_count)
same = bool((again.field.view(np.uint64) == sim.field.view(np.uint64)).all())
print(json.dumps({"latency": latency, "steps": sim.step_count, "same": same}))
"""
    done = python_subprocess(code, timeout=120)
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert r["latency"] < 1.0, r
    assert 0 < r["steps"] < 1_000_000 and r["same"], r


# ---- documentation -------------------------------------------------------------------------------

def test_help_teaches():
    text = pydoc.render_doc(calor.Simulation, renderer=pydoc.plaintext)
    for phrase in ["valid until the next step", "np.from_dlpack(sim)", "mpi4py communicator",
                   "Ctrl-C", "set_field(", "gather(",
                   "C-contiguous float64"]:
        assert phrase in text, phrase
    assert "keys of a calor TOML file" in calor.Problem.__doc__


def test_type_stubs_are_installed():
    stub = Path(calor.__file__).with_name("_calor.pyi")
    assert stub.is_file()
    text = stub.read_text()
    assert "def step(self, n: int = 1) -> None" in text
    assert "def field(self) -> numpy.typing.NDArray[numpy.float64]" in text
    assert Path(calor.__file__).with_name("py.typed").is_file()


def test_the_last_level_speed_is_measured_or_given(python_subprocess, monkeypatch):
    # calor info's ratio from Python: a plausible timing here; under CALOR_LLC_SPEED the given
    # value, and "auto" then sizes blocking by the L2 (600^2, 5.8 MB: tiled at one thread,
    # where a fast 64 MiB last level would keep the plain sweep).
    assert 0.02 < calor.llc_sweep_speed() < 4
    code = ("import calor\n"
            "sim = calor.Simulation(calor.Problem(n=600, steps=1, threads=1))\n"
            "print(calor.llc_sweep_speed(), sim.backend)\n")
    monkeypatch.setenv("CALOR_LLC", "64M")
    for speed, backend in (("0.5", "tiled"), ("1", "simd")):
        monkeypatch.setenv("CALOR_LLC_SPEED", speed)
        out = python_subprocess(code)
        assert out.stdout.split() == [str(float(speed)), backend], out.stderr
