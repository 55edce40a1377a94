"""Variable diffusivity, source fields, Robin faces and time tables from Python: NumPy arrays as
fields, and a ramped face against an independent NumPy implementation."""

from __future__ import annotations

import numpy as np
import pytest

import calor


def box_alpha(ny: int, nx: int) -> np.ndarray:
    """The box lo = (3, 2), hi = (9, 6) of alpha 0.2 in 1.0 as an array (cell i at i + 1)."""
    x = np.arange(1, nx + 1)[None, :]
    y = np.arange(1, ny + 1)[:, None]
    inside = (x >= 3) & (x < 9) & (y >= 2) & (y < 6)
    return np.where(inside, 0.2, 1.0)


def test_an_array_and_the_same_shape_give_the_same_bits():
    common = dict(preset="none", dim=2, n=[12, 8], steps=40, boundary={"all": "neumann"},
                  initial={"type": "gaussian", "width": 2.0})
    shape = calor.Problem(**common, diffusivity={"type": "box", "lo": [3.0, 2.0],
                                                  "hi": [9.0, 6.0], "inside": 0.2})
    array = calor.Problem(**common, diffusivity=box_alpha(8, 12))
    assert array.dt == shape.dt  # both from the largest alpha
    a, b = calor.Simulation(shape), calor.Simulation(array, backend="tiled")
    a.run(progress=False)
    b.run(progress=False)
    assert np.array_equal(a.field, b.field)
    # and alpha matters: a uniform alpha gives another field
    c = calor.Simulation(calor.Problem(**common))
    c.run(progress=False)
    assert not np.allclose(a.field, c.field)


def test_a_source_field_array_adds_its_rate():
    q = np.zeros((6, 10))
    q[2, 3] = 4.0
    p = calor.Problem(preset="none", dim=2, n=[10, 6], steps=5, dt=0.1,
                      boundary={"all": "neumann"}, sources={"field": q, "volumetric": 0.5})
    sim = calor.Simulation(p)
    sim.run(progress=False)
    # insulated faces: the heat grows by (sum q + volumetric * cells) dt per step
    assert sim.stats().heat == pytest.approx(5 * 0.1 * (4.0 + 0.5 * 60), rel=1e-12)


def test_a_transposed_or_bad_array_is_refused_by_name():
    with pytest.raises(calor.Error, match=r"diffusivity has shape \(12, 8\), but the grid "
                                          r"needs \(8, 12\)"):
        calor.Problem(preset="none", dim=2, n=[12, 8], diffusivity=np.ones((12, 8)))
    alpha = np.ones((8, 12))
    alpha[5, 7] = -1.0
    with pytest.raises(calor.Error, match=r"diffusivity is -1 at cell \(7, 5\)"):
        calor.Problem(preset="none", dim=2, n=[12, 8], diffusivity=alpha)
    with pytest.raises(calor.Error, match="times of a table must increase"):
        calor.Problem(preset="none", dim=1, n=8,
                      boundary={"x_low": {"type": "dirichlet", "value": [[1, 0], [1, 2]]}})


def numpy_ramp(n: int, steps: int, dt: float, alpha: float, table, robin_h: float,
               ambient: float) -> np.ndarray:
    """FTCS written here from the definition: halo 0 takes the table's value at each step's
    start time; the last halo is the Robin ghost at the face midway to it."""
    u = np.zeros(n + 2)
    r = alpha * dt
    ts, vs = zip(*table)
    beta = robin_h * 1.0 / alpha
    for s in range(steps):
        u[0] = np.interp(s * dt, ts, vs)
        u[-1] = ((1 - beta / 2) * u[-2] + beta * ambient) / (1 + beta / 2)
        u[1:-1] = u[1:-1] + r * (u[:-2] - 2 * u[1:-1] + u[2:])
    return u[1:-1]


@pytest.mark.parametrize("backend", ["serial", "simd", "tiled"])
def test_a_ramped_face_matches_numpy(backend):
    table = [[0.0, 0.0], [30.0, 3.0], [80.0, 1.0]]
    p = calor.Problem(preset="none", dim=1, n=40, steps=400, alpha=0.8, dt=0.25,
                      boundary={"x_low": {"type": "dirichlet", "value": table},
                                "x_high": {"type": "robin", "h": 0.3, "ambient": -1.0}})
    sim = calor.Simulation(p, backend=backend)
    sim.run(progress=False)
    np.testing.assert_allclose(sim.field, numpy_ramp(40, 400, 0.25, 0.8, table, 0.3, -1.0),
                               rtol=0, atol=1e-12)


def test_a_callable_is_evaluated_at_chunk_boundaries():
    """A callable face value and source energy, against a time table with the same values at
    every step: with one step per chunk (a plain sweep) they agree bit for bit."""
    def ramp(t):
        return min(t / 30.0, 1.0) * 3.0

    def energy(t):
        return 0.0 if t < 20.0 else 0.5

    common = dict(preset="none", dim=1, n=30, steps=200, alpha=0.8, dt=0.25)
    dt, steps = 0.25, 200
    table = [[s * dt, ramp(s * dt)] for s in range(steps)]
    etable = [[s * dt, energy(s * dt)] for s in range(steps)]
    by_fn = calor.Problem(**common,
                          boundary={"all": {"type": "dirichlet", "value": ramp},
                                    "x_high": "neumann"},
                          sources={"points": [{"at": [7], "energy": energy}]})
    by_table = calor.Problem(**common,
                             boundary={"all": {"type": "dirichlet", "value": table},
                                       "x_high": "neumann"},
                             sources={"points": [{"at": [7], "energy": etable}]})
    a = calor.Simulation(by_fn, backend="simd")
    assert a.steps_per_pass == 1
    a.run(progress=False)
    b = calor.Simulation(by_table, backend="simd")
    b.run(progress=False)
    assert np.array_equal(a.field, b.field)
    assert a.field.max() > 1.0  # the face did ramp up


def test_the_spectral_method_cannot_follow_a_callable():
    p = calor.Problem(preset="none", dim=1, n=32, steps=10, method="spectral",
                      boundary={"all": {"type": "dirichlet", "value": lambda t: 0.0}})
    with pytest.raises(calor.Error, match="spectral method takes all steps at once"):
        calor.Simulation(p)


def test_a_simulation_with_monitors_is_garbage_collected():
    """A monitor that refers to its Simulation (here through a closure; a lambda at module level
    does through the module's globals) makes a cycle through the engine: the collector must see
    it, or the Simulation and its fields live until the interpreter exits."""
    import gc
    import weakref

    p = calor.Problem(preset="none", dim=2, n=[16, 8], steps=20,
                      boundary={"all": {"type": "dirichlet", "value": lambda t: 0.5 * t}})
    sim = calor.Simulation(p)
    seen = []
    sim.add_monitor(lambda s: seen.append(sim.step_count), every=5)
    sim.run(progress=False)
    assert seen == [5, 10, 15, 20]
    gone = weakref.ref(sim)
    del sim
    gc.collect()
    assert gone() is None
