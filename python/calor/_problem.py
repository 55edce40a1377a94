"""calor.Problem: what to solve, from keyword arguments or a TOML file."""

from __future__ import annotations

import inspect
import os
import textwrap
from typing import Any, Union

from . import _calor
from ._settings import overrides

StrPath = Union[str, "os.PathLike[str]"]


class Problem(_calor.Problem):
    """A checked heat-diffusion problem: du/dt = div(alpha grad u) + q, explicit FTCS.

    Keyword arguments are the keys of a calor TOML file (see `calor run --help` or the
    README's option reference); they are checked by the engine itself, so a mistake raises
    calor.Error (a ValueError) with the same message the command line prints::

        calor.Problem()                                     # the case study, N=4800, 500 steps
        calor.Problem(preset="stencil", n=480, steps=50)    # smaller
        calor.Problem(preset="gaussian2d", n=256)
        calor.Problem(preset="none", dim=3, n=64, steps=200,
                      boundary={"all": "periodic"},
                      initial={"type": "gaussian", "width": 4.0})
        calor.Problem(preset="none", dim=2, n=[200, 100], h=[0.5, 1.0],
                      boundary={"x_low": {"type": "dirichlet", "value": 1.0},
                                "x_high": {"type": "neumann", "gradient": 0.0}},
                      sources={"points": [{"at": [10, 20], "energy": 1.0}]})
        calor.Problem(preset="none", dim=2, n=[200, 100],
                      diffusivity=alpha,                  # a NumPy array, shape (100, 200)
                      sources={"field": q},               # heat-source rate per cell, too
                      boundary={"x_low": {"type": "dirichlet", "value": [[0, 0], [50, 1]]},
                                "x_high": {"type": "robin", "h": 2.0, "ambient": 0.0}})

    A diffusivity or source field may also be a shape ({"type": "box", ...}) or a file, as in
    TOML. A boundary value, gradient, ambient temperature or point-source energy may be a
    time table [[t0, v0], [t1, v1], ...]: piecewise linear, read at the start of each step.
    It may also be a Python callable f(t) -> float, evaluated at chunk boundaries: when the
    Simulation is made (t = 0 there), and then every Simulation.steps_per_pass steps (1 for
    plain sweeps, the block depth of the tiled backend), the value holding for the chunk that
    follows. A table is exact per step; a callable is for what no table can say (feedback
    from the field, a value read from elsewhere)::

        calor.Problem(preset="none", dim=1, n=100,
                      boundary={"x_low": {"type": "dirichlet",
                                          "value": lambda t: math.sin(0.01 * t)}})

    The keys are listed under Keys below, generated from the engine's own table
    (calor._calor.config_keys()); the examples are TOML values: in Python write the same
    number, string, bool, list or dict. A dict value sets the keys below it; None leaves a key
    at its default. Keys with dots can be given as **{"boundary.all": "periodic"}.

    The properties (n, shape, dt, r, ...) are read-only: make a new Problem to change one.
    """

    def __init__(self, **settings: Any) -> None:
        settings, hooks = _callables(settings)
        settings, arrays = _cell_arrays(settings)
        ov = overrides(settings, "calor.Problem")
        if "preset" not in settings:  # as `calor run` without a file: the case study
            ov.insert(0, ("preset", '"stencil"', "default"))
        super().__init__("", "calor.Problem", ov, **arrays)
        self._callables = hooks

    @classmethod
    def from_toml(cls, path: StrPath, **settings: Any) -> Problem:
        """Reads a TOML file as `calor run FILE` does, with keyword settings on top (as its
        flags would be)."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self = cls.__new__(cls)
        settings, hooks = _callables(settings)
        settings, arrays = _cell_arrays(settings)
        _calor.Problem.__init__(self, text, path, overrides(settings, "Problem.from_toml"),
                                **arrays)
        self._callables = hooks
        return self

    def __repr__(self) -> str:
        n = " x ".join(str(v) for v in self.n)
        return (f"calor.Problem(preset={self.preset!r}, dim={self.dim}, n={n}, steps={self.steps}, "
                f"dt={self.dt:g}, alpha={self.alpha:g}, r={self.r:g}, form={self.form!r})")


_FACES = {"x_low": [(0, 0)], "x_high": [(0, 1)], "y_low": [(1, 0)], "y_high": [(1, 1)],
          "z_low": [(2, 0)], "z_high": [(2, 1)], "x": [(0, 0), (0, 1)], "y": [(1, 0), (1, 1)],
          "z": [(2, 0), (2, 1)], "all": [(a, s) for a in range(3) for s in range(2)]}


def _callables(settings: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[tuple, Any]]]:
    """Takes the callables out of boundary={face: {"value"/"gradient"/"ambient": fn}} and
    sources={"points": [{..., "energy": fn}]}: each is set to fn(0.0) here, and a Simulation
    calls fn(t) again at the start of every chunk of steps (see Simulation)."""
    rest = dict(settings)
    hooks: list[tuple[tuple, Any]] = []
    boundary = rest.get("boundary")
    if isinstance(boundary, dict):
        boundary = dict(boundary)
        for face, spec in boundary.items():
            if not isinstance(spec, dict):
                continue
            for key in ("value", "gradient", "ambient"):
                if callable(spec.get(key)):
                    if face not in _FACES:
                        raise ValueError(f"boundary[{face!r}]: not a face; faces are "
                                         + ", ".join(_FACES))
                    fn = spec[key]
                    spec = {**spec, key: float(fn(0.0))}
                    # the faces this key sets: not those a more specific key sets instead
                    faces = [f for f in _FACES[face]
                             if not any(other != face and f in _FACES[other]
                                        and len(_FACES[other]) < len(_FACES[face])
                                        for other in boundary)]
                    hooks.append((("faces", tuple(faces)), fn))
            boundary[face] = spec
        rest["boundary"] = boundary
    sources = rest.get("sources")
    if isinstance(sources, dict) and isinstance(sources.get("points"), (list, tuple)):
        points = []
        for i, point in enumerate(sources["points"]):
            if isinstance(point, dict) and callable(point.get("energy")):
                hooks.append((("source", i), point["energy"]))
                point = {**point, "energy": float(point["energy"](0.0))}
            points.append(point)
        rest["sources"] = {**sources, "points": points}
    return rest, hooks


def _is_array(value: Any) -> bool:
    return hasattr(value, "__array__") or hasattr(value, "__array_interface__")


def _cell_arrays(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits the cell fields given as arrays (diffusivity=alpha, sources={"field": q} or
    **{"sources.field": q}) from the other settings. The engine copies each once into its own
    layout (with halos); a float64 C-order array is read as it is, anything else is converted
    first (np.ascontiguousarray)."""
    import numpy as np

    rest = dict(settings)
    arrays: dict[str, Any] = {}

    def take(value: Any) -> Any:
        return np.ascontiguousarray(value, dtype=np.float64)

    if _is_array(rest.get("diffusivity")):
        arrays["diffusivity"] = take(rest.pop("diffusivity"))
    if _is_array(rest.get("sources.field")):
        arrays["heating"] = take(rest.pop("sources.field"))
    sources = rest.get("sources")
    if isinstance(sources, dict) and _is_array(sources.get("field")):
        sources = dict(sources)
        arrays["heating"] = take(sources.pop("field"))
        rest["sources"] = sources
    return rest, arrays


def _keys_section(width: int = 92, column: int = 22) -> str:
    """The "Keys" section of Problem's docstring, from the engine's table of keys as `calor run
    --help` lists it: each name and its help, then its type, default and an example, with the
    dotted keys under their [section]."""
    lines = ["Keys::", ""]
    section = ""
    indent = " " * column
    for name, type_, default, help_, example in _calor.config_keys():
        sec = name.partition(".")[0] if "." in name else ""
        if sec != section:
            lines += ["", f"  [{sec}]"]
            section = sec
        head = f"  {name}"
        if len(head) + 2 > column:  # a long name on a line of its own
            lines.append(head)
            head = indent
        detail = type_ + (f"; default: {default}" if default else "") + f"; e.g. {example}"
        for text in (help_, detail):
            lines += textwrap.wrap(text, width, initial_indent=head.ljust(column),
                                   subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False)
            head = indent
    return "\n".join(lines) + "\n"


# Docstrings keep their indentation (Python 3.13 strips it): cleandoc makes both the same text.
Problem.__doc__ = inspect.cleandoc(Problem.__doc__ or "") + "\n\n" + _keys_section()
