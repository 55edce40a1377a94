"""ctypes: the study's step written in C, compiled with cc -O3 -ffp-contract=off into a shared
library and called from Python through ctypes (the SHARCNET tutorial's approach)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from case import Step, evolve, serial_only, timed
from compiled import FLAGS, _toolchain, cached

HERE = Path(__file__).resolve().parent


def _library() -> ctypes.CDLL:
    folder = cached("ctypes_kernel", [HERE / "ctypes_kernel.c"],
                    [["cc", *FLAGS, "-shared", "-fPIC", "ctypes_kernel.c", "-o",
                      "libstencil.so"]], _toolchain("cc"))
    lib = ctypes.CDLL(str(folder / "libstencil.so"))
    pointer = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    lib.step.argtypes = [pointer, pointer, ctypes.c_long, ctypes.c_long]
    lib.step.restype = None
    return lib


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The C step through ctypes (one thread); the compile time is reported apart."""
    serial_only("ctypes", threads)
    lib, seconds = timed(_library)

    def step(aold: np.ndarray, anew: np.ndarray) -> None:
        lib.step(aold, anew, aold.shape[0] - 2, aold.shape[1] - 2)  # any block, not only squares

    return step, seconds


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case; see case.py."""
    return evolve(prepare, n, steps, energy, threads)
