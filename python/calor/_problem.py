"""calor.Problem: what to solve, from keyword arguments or a TOML file."""

from __future__ import annotations

import os
from typing import Any, Union

from . import _calor
from ._settings import overrides

StrPath = Union[str, "os.PathLike[str]"]


class Problem(_calor.Problem):
    """A checked heat-diffusion problem: du/dt = alpha * laplacian(u) + q, explicit FTCS.

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

    Keys: preset (stencil, diffusion1d, gaussian2d, gaussian3d or none; stencil when not
    given), dim, n, h, alpha, dt (default: half the stable limit), steps, form ("expanded" or
    "factored"), allow_unstable, energy (stencil preset), backend, threads, tile_depth,
    tile_width, boundary (all, x, y, z, x_low, ...), sources (volumetric, points), initial
    (type, value, centre, width, amplitude, path). A dict value sets the keys below it; None leaves a key
    at its default. Keys with dots can be given as **{"boundary.all": "periodic"}.

    The properties (n, shape, dt, r, ...) are read-only: make a new Problem to change one.
    """

    def __init__(self, **settings: Any) -> None:
        ov = overrides(settings, "calor.Problem")
        if "preset" not in settings:  # as `calor run` without a file: the case study
            ov.insert(0, ("preset", '"stencil"', "default"))
        super().__init__("", "calor.Problem", ov)

    @classmethod
    def from_toml(cls, path: StrPath, **settings: Any) -> Problem:
        """Reads a TOML file as `calor run FILE` does, with keyword settings on top (as its
        flags would be)."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self = cls.__new__(cls)
        _calor.Problem.__init__(self, text, path, overrides(settings, "Problem.from_toml"))
        return self

    def __repr__(self) -> str:
        n = " x ".join(str(v) for v in self.n)
        return (f"calor.Problem(preset={self.preset!r}, dim={self.dim}, n={n}, steps={self.steps}, "
                f"dt={self.dt:g}, alpha={self.alpha:g}, r={self.r:g}, form={self.form!r})")
