"""calor.Problem: keyword arguments checked by the engine's own load_config, with its messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

import calor


def test_no_arguments_is_the_case_study():
    p = calor.Problem()
    assert (p.preset, p.dim, p.n, p.steps, p.dt, p.alpha, p.form) == (
        "stencil", 2, (4800, 4800), 500, 0.125, 1.0, "factored")
    assert p.r == 0.25 and p.shape == (4800, 4800)
    assert len(p.point_sources) == 3


def test_presets_mirror_the_command_line():
    p = calor.presets.stencil(n=480, energy=2.0, steps=50)
    assert (p.n, p.steps) == ((480, 480), 50)
    # The study's sources, 1-based (N/2, N/2), (N/3, N/3), (N*4/5, N*8/9), here 0-based.
    assert p.point_sources == [((239, 239), 2.0), ((159, 159), 2.0), ((383, 425), 2.0)]
    d = calor.presets.diffusion1d(n=1000)
    assert (d.dim, d.n, d.shape, d.alpha) == (1, (1000,), (1000,), 0.1)
    g = calor.presets.gaussian2d(n=64)
    assert g.h == (1 / 64, 1 / 64) and set(g.boundary.values()) == {"periodic"}
    g3 = calor.presets.gaussian3d(n=8, steps=3)
    assert (g3.dim, g3.shape, g3.steps) == (3, (8, 8, 8), 3)
    assert "4800" in calor.presets.stencil.__doc__


def test_grid_sizes_are_x_first_and_shapes_numpy_order():
    p = calor.Problem(preset="none", dim=3, n=[5, 6, 7], h=[1.0, 2.0, 4.0])
    assert p.n == (5, 6, 7) and p.shape == (7, 6, 5) and p.h == (1.0, 2.0, 4.0)
    assert p.dt == pytest.approx(p.max_stable_dt / 2)


def test_nested_dicts_set_dotted_keys():
    p = calor.Problem(preset="none", dim=2, n=[20, 10], steps=5,
                      boundary={"all": "neumann",
                                "x_low": {"type": "dirichlet", "value": 1.5}},
                      sources={"volumetric": 0.25, "points": [{"at": [3, 4], "energy": 2.0}]},
                      initial={"type": "constant", "value": 1.0})
    assert p.boundary["x_low"] == "dirichlet(1.5)" and p.boundary["y_high"] == "neumann(0)"
    assert p.point_sources == [((3, 4), 2.0)] and p.volumetric == 0.25
    q = calor.Problem(preset="none", dim=1, n=8, **{"boundary.all": "periodic"})
    assert q.boundary == {"x_low": "periodic", "x_high": "periodic"}


def test_numpy_values_are_accepted():
    p = calor.Problem(preset="none", dim=2, n=np.array([12, 8]), steps=np.int64(3),
                      alpha=np.float64(0.5))
    assert (p.n, p.steps, p.alpha) == ((12, 8), 3, 0.5)


def test_none_means_the_default():
    assert calor.Problem(n=48, dt=None).dt == 0.125


def test_unknown_key_names_it_and_suggests():
    with pytest.raises(ValueError, match=r"unknown key 'stepz' \(calor.Problem\(stepz=...\)\); "
                                         r"did you mean 'steps'"):
        calor.Problem(n=48, stepz=10)


def test_unstable_dt_is_refused_with_the_largest_stable_one():
    with pytest.raises(calor.Error, match=r"dt = 0.3 is unstable.*largest stable dt is 0.25"):
        calor.Problem(n=48, dt=0.3)
    p = calor.Problem(n=48, dt=0.3, allow_unstable=True)
    assert p.r == pytest.approx(0.6) and p.allow_unstable


def test_wrong_types_name_key_value_and_origin():
    with pytest.raises(ValueError, match=r"key 'boundary.x.value' \(calor.Problem\(boundary="
                                         r"...\)\): expected a number, got a string \"hot\""):
        calor.Problem(preset="none", dim=2, n=8,
                      boundary={"x": {"type": "dirichlet", "value": "hot"}})
    with pytest.raises(ValueError, match=r"key 'steps'.*expected an integer"):
        calor.Problem(n=48, steps=2.5)
    with pytest.raises(ValueError, match="unknown preset 'stencill'"):
        calor.Problem(preset="stencill")


def test_the_engine_error_is_a_value_error():
    assert issubclass(calor.Error, ValueError)


def test_values_python_cannot_express_as_settings():
    with pytest.raises(TypeError, match=r"calor.Problem\(n=...\).*cannot express a object"):
        calor.Problem(n=object())
    with pytest.raises(ValueError, match="not a setting name"):
        calor.Problem(**{"n = 3\nsteps": 4})


def test_strings_are_quoted_for_toml(tmp_path):
    path = tmp_path / 'a "quoted", comma\\name.npy'
    start = np.arange(12.0).reshape(3, 4)
    np.save(path, start)
    p = calor.Problem(preset="none", dim=2, n=[4, 3], steps=1,
                      initial={"type": "npy", "path": path})
    sim = calor.Simulation(p)
    assert np.array_equal(sim.field, start)


def test_from_toml_with_overrides(tmp_path):
    f = tmp_path / "case.toml"
    f.write_text('preset = "stencil"\nn = 64\nsteps = 7\n')
    p = calor.Problem.from_toml(f, steps=9)
    assert (p.n, p.steps) == ((64, 64), 9) and isinstance(p, calor.Problem)
    f.write_text('n = 64\nstepz = 7\n')
    with pytest.raises(ValueError, match=rf"unknown key 'stepz' \({f}\)"):
        calor.Problem.from_toml(f)


def test_repr_reads_like_the_settings():
    assert repr(calor.presets.stencil(n=480, steps=50)) == (
        "calor.Problem(preset='stencil', dim=2, n=480 x 480, steps=50, dt=0.125, alpha=1, "
        "r=0.25, form='factored')")


def _base_for(key):
    """Settings that a key's example needs beside it to load (as tests/unit/test_config.cpp)."""
    base = {"preset": "stencil" if key == "energy" else "none", "dim": 2, "n": 32}
    needs = {"output.every": ("output.path", "out/run.h5"),
             "output.png_every": ("output.png", "out/frame"),
             "checkpoint.every": ("checkpoint.path", "out/run.ckpt.h5"),
             "initial.value": ("initial.type", "constant"),
             "initial.centre": ("initial.type", "gaussian"),
             "initial.width": ("initial.type", "gaussian"),
             "initial.amplitude": ("initial.type", "gaussian"),
             "initial.path": ("initial.type", "npy")}
    if key in needs:
        base[needs[key][0]] = needs[key][1]
    # A cell field's key needs the rest of its shape (its file keys name a file that is not there).
    shapes = {"layers": {"type": "layers", "bounds": [10.0, 20.0], "values": [1.0, 0.05, 1.0]},
              "box": {"type": "box", "lo": [10.0, 10.0], "hi": [20.0, 30.0], "inside": 0.01},
              "sphere": {"type": "sphere", "centre": [16.0, 16.0], "radius": 5.0,
                         "inside": 0.01}}
    of = {"type": "layers", "axis": "layers", "bounds": "layers", "values": "layers",
          "lo": "box", "hi": "box", "inside": "box", "centre": "sphere", "radius": "sphere"}
    for prefix in ("diffusivity.", "sources.field."):
        if key.startswith(prefix) and key[len(prefix):] in of:
            for k, v in shapes[of[key[len(prefix):]]].items():
                base[prefix + k] = v
    return base


def test_the_docstring_lists_the_engines_keys():
    keys = calor._calor.config_keys()
    names = [k[0] for k in keys]
    assert len(names) == len(set(names)) and {"n", "output.every", "boundary.x_low"} <= set(names)
    doc = calor.Problem.__doc__
    keys_section = doc[doc.index("\nKeys::\n"):]
    flat = " ".join(keys_section.split())  # as read, whatever the line breaks
    for name, type_, default, help_, example in keys:
        assert all(isinstance(v, str) for v in (type_, default, help_, example))
        assert f"  {name} " in keys_section or f"  {name}\n" in keys_section, name
        assert f"e.g. {example}" in flat and " ".join(help_.split()) in flat, name
    assert "e.g. [480, 320]" in flat  # n's example, under n's help
    assert "calor.Problem(preset=\"gaussian2d\", n=256)" in doc  # the hand-written part is kept


def test_the_engine_accepts_exactly_the_listed_keys():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+, to read the TOML examples

    for name, _type, _default, _help, example in calor._calor.config_keys():
        if name.endswith((".path", ".dataset")) and name.startswith(("diffusivity", "sources")):
            continue  # read with the file they name (tests/unit/test_config.cpp checks them)
        value = tomllib.loads(f"v = {example}")["v"]  # the TOML example as Python
        calor.Problem(**{**_base_for(name), name: value})  # raises if the engine refuses it
        key = re.escape(name)
        with pytest.raises(ValueError, match=rf"unknown key '{key}_'.*did you mean '{key}'"):
            calor.Problem(**{**_base_for(name), f"{name}_": 1})


def test_a_grid_too_large_to_allocate_is_refused_with_its_size():
    # 4294967280 x 4294967294 cells overflow int64: the count used to wrap, and the Simulation
    # wrote past the heap. The engine refuses it, naming the size and this machine's memory.
    message = (r"the grid 4294967280 x 4294967294 needs [0-9.e+]+ TiB for its two fields; "
               r"this machine has [0-9.]+ [GT]iB: use a smaller grid or more MPI ranks")
    with pytest.raises(calor.Error, match=message):
        calor.Simulation(calor.Problem(n=[4294967280, 4294967294], steps=1))
    assert calor.Problem(n=4800).shape == (4800, 4800)  # the case study's grid is fine


def test_messages_name_python_arguments_not_cli_flags():
    """The engine's messages are written for `calor run`; Python gets its own terms."""
    with pytest.raises(calor.Error) as e:
        calor.Simulation(calor.Problem(n=8, stepz=3))
    assert "help(calor.Problem)" in str(e.value) and "--help" not in str(e.value)
    with pytest.raises(calor.Error) as e:
        calor.Simulation(calor.Problem(n=8, dt=0.3))
    assert "dt=..." in str(e.value) and "allow_unstable=True" in str(e.value)
    assert "--" not in str(e.value)
