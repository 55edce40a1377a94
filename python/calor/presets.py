"""Ready-made problems, as `calor run --preset NAME` has them.

Each function returns a calor.Problem; arguments left as None keep the preset's value, and
any other setting can be passed as a keyword (see help(calor.Problem))::

    calor.presets.stencil(n=480, steps=50)
    calor.presets.gaussian2d(n=256, backend="simd")
"""

from __future__ import annotations

from typing import Any, Optional

from . import _calor
from ._problem import Problem

__all__ = ["stencil", "diffusion1d", "gaussian2d", "gaussian3d"]

_SUMMARY = dict(_calor.presets())


def _summary(name: str) -> str:
    return _SUMMARY.get(name, "")


def stencil(n: Optional[int] = None, *, energy: Optional[float] = None,
            steps: Optional[int] = None, **settings: Any) -> Problem:
    return Problem(preset="stencil", n=n, energy=energy, steps=steps, **settings)


def diffusion1d(n: Optional[int] = None, *, steps: Optional[int] = None,
                **settings: Any) -> Problem:
    return Problem(preset="diffusion1d", n=n, steps=steps, **settings)


def gaussian2d(n: Optional[int] = None, *, steps: Optional[int] = None,
               **settings: Any) -> Problem:
    return Problem(preset="gaussian2d", n=n, steps=steps, **settings)


def gaussian3d(n: Optional[int] = None, *, steps: Optional[int] = None,
               **settings: Any) -> Problem:
    return Problem(preset="gaussian3d", n=n, steps=steps, **settings)


stencil.__doc__ = f"""The reference case study: {_summary("stencil")}.

n: cells per axis (N); energy: what each of the three sources adds per step; steps: steps
that run() takes. The final field is bit for bit that of `calor run --preset stencil`."""
diffusion1d.__doc__ = f"""The 1D teaching example: {_summary("diffusion1d")}."""
gaussian2d.__doc__ = f"""{_summary("gaussian2d")[0:1].upper()}{_summary("gaussian2d")[1:]}."""
gaussian3d.__doc__ = f"""{_summary("gaussian3d")[0:1].upper()}{_summary("gaussian3d")[1:]}."""
