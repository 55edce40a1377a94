"""The Python module runs the same run loop as `calor run`: the same configuration gives the
same files (snapshots, checkpoint, PNG frames) and the same final field, byte for byte; the
spectral method, monitors, checkpoints on Ctrl-C and restarts work from Python as well."""

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

import calor

CASE = """preset = "stencil"
n = [61, 47]
steps = 40
check_every = 10
[output]
path = "{dir}/snap.h5"
every = 10
png = "{dir}/frame"
png_every = 20
[checkpoint]
path = "{dir}/ck.h5"
every = 15
"""


def _write_case(folder: Path) -> Path:
    folder.mkdir()
    toml = folder / "case.toml"
    toml.write_text(CASE.format(dir=folder))
    return toml


def test_cli_and_python_write_the_same_files(tmp_path, run_cli, same_bits):
    cli_toml, py_toml = _write_case(tmp_path / "cli"), _write_case(tmp_path / "py")
    run_cli("run", str(cli_toml), "--no-progress", "--save-npy", str(tmp_path / "cli" / "u.npy"))
    sim = calor.Simulation(calor.Problem.from_toml(py_toml))
    assert sim.outputs == [f"snapshots {tmp_path}/py/snap.h5 (+ {tmp_path}/py/snap.xmf)",
                           f"PNG frames {tmp_path}/py/frame_*.png",
                           f"checkpoints {tmp_path}/py/ck.h5"]
    sim.run(progress=False)
    same_bits(sim.gather(), np.load(tmp_path / "cli" / "u.npy"), "final field")
    for step in (10, 20, 30, 40):
        same_bits(calor.read_dataset(str(tmp_path / "py" / "snap.h5"), str(step)),
                  calor.read_dataset(str(tmp_path / "cli" / "snap.h5"), str(step)),
                  f"snapshot {step}")
    # The checkpoint of the last step (every 15 steps, and at the end), and the one before it.
    for name in ("ck.h5", "ck.h5.prev"):
        same_bits(calor.read_dataset(str(tmp_path / "py" / name)),
                  calor.read_dataset(str(tmp_path / "cli" / name)), name)
    same_bits(calor.read_dataset(str(tmp_path / "py" / "ck.h5")), sim.gather(), "checkpoint")
    for frame in ("frame_00000020.png", "frame_00000040.png"):
        assert (tmp_path / "py" / frame).read_bytes() == (tmp_path / "cli" / frame).read_bytes()
    xmf = (tmp_path / "py" / "snap.xmf").read_text()
    assert xmf.count("<Grid Name=\"step") == 4 and "snap.h5:/snapshots/0000000040" in xmf


def test_restart_from_a_python_checkpoint_is_bit_for_bit(tmp_path, same_bits):
    problem = calor.presets.stencil(n=53, steps=30)
    whole = calor.Simulation(problem)
    whole.run(progress=False)
    first = calor.Simulation(problem)
    first.step(12)
    first.save_checkpoint(str(tmp_path / "c.h5"))
    second = calor.Simulation(problem, restart=tmp_path / "c.h5")
    assert second.step_count == 12
    second.run(progress=False)
    same_bits(second.field, whole.field, "restarted at step 12")
    other = calor.presets.stencil(n=53, steps=30, alpha=0.5)
    with pytest.raises(calor.Error, match="alpha: checkpoint 1, now 0.5"):
        calor.Simulation(other, restart=tmp_path / "c.h5")
    assert calor.Simulation(other, restart=tmp_path / "c.h5", force=True).step_count == 12


def test_ctrl_c_saves_the_configured_checkpoint_and_a_restart_continues(tmp_path, same_bits):
    settings = dict(n=300, steps=20000, checkpoint={"path": str(tmp_path / "c.h5")})
    sim = calor.Simulation(calor.presets.stencil(**settings), backend="simd", threads=1)
    sim._chunk_seconds = 0.01
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sim.run(progress=False)
    timer.join()
    assert 0 < sim.step_count < 20000, "the run should have been interrupted mid-way"
    saved = calor.read_dataset(str(tmp_path / "c.h5"))
    same_bits(saved, sim.field, "the checkpoint is the state at the interrupt")
    again = calor.Simulation(calor.presets.stencil(**settings), restart=tmp_path / "c.h5")
    assert again.step_count == sim.step_count
    again.run(progress=False)
    whole = calor.Simulation(calor.presets.stencil(n=300, steps=20000))
    whole.run(progress=False)
    same_bits(again.field, whole.field, "interrupted, then restarted")


def test_the_spectral_method_runs_in_the_same_loop(tmp_path):
    # Discrete mode is the stencil's exact result: the same field to rounding, with snapshots
    # written at the same steps (each one inverse transform).
    settings = dict(n=48, steps=60, output={"path": str(tmp_path / "s.h5"), "every": 20})
    spectral = calor.Simulation(calor.presets.gaussian2d(method="spectral", **settings))
    assert spectral.method == "spectral" and spectral.backend == "spectral"
    stencil = calor.Simulation(calor.presets.gaussian2d(n=48, steps=60))
    seen = []
    spectral.add_monitor(lambda s: seen.append((s.step_count, s.stats().heat)), every=30)
    spectral.run(progress=False)
    stencil.run(progress=False)
    assert [step for step, _ in seen] == [30, 60]
    np.testing.assert_allclose(spectral.field, stencil.field, rtol=0, atol=1e-13)
    for step in (20, 40, 60):
        assert calor.read_dataset(str(tmp_path / "s.h5"), str(step)).shape == (48, 48)
    np.testing.assert_allclose(calor.read_dataset(str(tmp_path / "s.h5"), "60"), stencil.field,
                               rtol=0, atol=1e-13)
    assert not spectral.field.flags.writeable
    # A new field restarts the transforms from it.
    spectral.field = np.ascontiguousarray(stencil.field)
    spectral.step(10)
    stencil.step(10)
    np.testing.assert_allclose(spectral.field, stencil.field, rtol=0, atol=1e-13)


def test_monitors_see_the_state_and_can_stop_the_run():
    sim = calor.Simulation(calor.presets.stencil(n=64, steps=100))
    heats = []

    def watch(s):
        heats.append((s.step_count, s.stats().heat, float(s.field.max())))
        return s.step_count < 50  # stop at step 50

    sim.add_monitor(watch, every=25)
    sim.run(progress=False)
    assert sim.step_count == 50
    direct = calor.Simulation(calor.presets.stencil(n=64, steps=100))
    expected = []
    for _ in range(2):
        direct.step(25)
        expected.append((direct.step_count, direct.stats().heat, float(direct.field.max())))
    assert heats == expected
    with pytest.raises(ValueError, match="every=0, seconds=0"):
        sim.add_monitor(watch)
    with pytest.raises(TypeError, match="fn must be callable"):
        sim.add_monitor(3, every=1)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(calor.Error, match="absent.h5"):
        calor.Simulation(calor.presets.stencil(n=16, steps=2), restart=tmp_path / "absent.h5")
    with pytest.raises(calor.Error, match="no/such/dir/c.h5"):
        calor.Simulation(calor.presets.stencil(n=16, steps=2)).save_checkpoint(
            str(tmp_path / "no/such/dir/c.h5"))
    with pytest.raises(calor.Error, match="cannot open 'nope.h5'"):
        calor.read_dataset("nope.h5")


def test_png_without_an_interval_is_written_at_the_last_step(tmp_path):
    sim = calor.Simulation(calor.presets.stencil(n=32, steps=7,
                                                 output={"png": str(tmp_path / "f")}))
    sim.run(progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f_00000007.png"]


def test_sigterm_saves_the_checkpoint_and_exits_75(tmp_path, python_subprocess):
    # As `calor run` under a batch system's time limit: checkpoint, then exit status 75.
    code = ("import os, signal, sys, threading, calor\n"
            "p = calor.presets.stencil(n=300, steps=200000,\n"
            "                          checkpoint={'path': sys.argv[1]})\n"
            "sim = calor.Simulation(p, backend='simd', threads=1)\n"
            "sim._chunk_seconds = 0.01\n"
            "threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()\n"
            "sim.run(progress=False)\n")
    done = python_subprocess(code, timeout=120, args=[str(tmp_path / "c.h5")])
    assert done.returncode == 75, done.stderr
    saved = calor.read_dataset(str(tmp_path / "c.h5"))
    assert saved.shape == (300, 300) and saved.sum() > 0


def test_outputs_never_replace_a_file_calor_did_not_write(tmp_path):
    notes = tmp_path / "notes.h5"
    notes.write_text("my notes")
    problem = calor.presets.stencil(n=16, steps=2, checkpoint={"path": str(notes)})
    with pytest.raises(calor.Error, match="exists and is not a file calor wrote for it.*"
                                          "overwrite=True"):
        calor.Simulation(problem)
    assert notes.read_text() == "my notes"
    sim = calor.Simulation(problem, overwrite=True)
    sim.run(progress=False)
    assert calor.read_dataset(str(notes)).shape == (16, 16)
    with pytest.raises(calor.Error, match="output.path and checkpoint.path both name"):
        calor.Simulation(calor.presets.stencil(n=16, steps=2, output={"path": str(notes)},
                                               checkpoint={"path": str(notes)}))


def test_the_spectral_method_has_the_same_health_check(tmp_path):
    # A NaN in the state is caught with the stencil's message, and no checkpoint is written of
    # an unchecked state (checkpoints are taken only at steps just checked).
    sim = calor.Simulation(calor.presets.gaussian2d(
        n=16, steps=40, method="spectral",
        checkpoint={"path": str(tmp_path / "c.h5"), "every": 10}))
    u = np.array(sim.field)
    u[3, 4] = np.nan
    sim.field = u
    with pytest.raises(calor.Error, match=r"the solution blew up by step 10: u = -?nan"):
        sim.run(progress=False)
    assert not (tmp_path / "c.h5").exists()
