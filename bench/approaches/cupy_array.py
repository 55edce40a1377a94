"""CuPy, written array-module-agnostic, the Chalmers course's idiom: the code takes its array
module from its arrays (``cupy.get_array_module``), so the same step and time loop run on CuPy
arrays on a GPU and on NumPy arrays anywhere; here it is tested with NumPy arrays, bit for bit.

The step is NumPy's slicing expression (numpy_slicing.py). Bits: each CuPy operation is its own
elementwise kernel that stores its float64 result, so no multiply is ever fused with an add, and
the sum runs left to right as in the reference. The sources are three scalar adds, one element
each, in the reference's order (a fancy-indexed add would add a coinciding source once).

Times: ``seconds`` (= ``kernel_seconds``) is the time loop, synchronised with the device at the
end; ``end_to_end_seconds`` adds allocating the fields on the device and copying the result
back. ``compile_seconds`` is a warm-up step on a 1 x 1 case, which makes CuPy compile (or load
from its cache) the elementwise kernels.
"""

from __future__ import annotations

import time
from types import ModuleType

import numpy

from case import serial_only, sources, timed

try:
    import cupy

    get_array_module = cupy.get_array_module
except Exception:  # not installed, or a broken CUDA install: NumPy arrays only
    cupy = None

    def get_array_module(*arrays) -> ModuleType:
        """NumPy, whatever the arrays: without CuPy there is no other module."""
        return numpy


def step(aold, anew) -> None:
    """anew's interior from aold's, on NumPy or CuPy arrays alike."""
    anew[1:-1, 1:-1] = 0.5 * (aold[1:-1, 1:-1] + 0.25 * (aold[1:-1, :-2] + aold[1:-1, 2:]
                                                         + aold[:-2, 1:-1] + aold[2:, 1:-1]))


def synchronize(array) -> None:
    """Waits for the device's queued work on a CuPy array; nothing for a NumPy one."""
    if get_array_module(array) is not numpy:
        cupy.cuda.get_current_stream().synchronize()


def to_host(array) -> numpy.ndarray:
    """A NumPy copy of a NumPy or CuPy array."""
    xp = get_array_module(array)
    return xp.asnumpy(array) if xp is not numpy else array.copy()


def evolve(xp: ModuleType, n: int, steps: int, energy: float) -> dict:
    """The case on xp's arrays (numpy or cupy); the fields are made and stay in xp's memory."""
    start = time.perf_counter()
    aold, anew = xp.zeros((n + 2, n + 2)), xp.zeros((n + 2, n + 2))
    cells = [(j + 1, i + 1) for j, i in sources(n)]
    synchronize(aold)
    loop = time.perf_counter()
    for _ in range(steps):
        step(aold, anew)
        for cell in cells:
            anew[cell] += energy
        aold, anew = anew, aold
    synchronize(aold)
    seconds = time.perf_counter() - loop
    field = numpy.ascontiguousarray(to_host(aold[1:-1, 1:-1]))
    return {"field": field, "seconds": seconds, "kernel_seconds": seconds,
            "end_to_end_seconds": time.perf_counter() - start}


def warm_up(xp: ModuleType) -> None:
    """One step and one source add on a 1 x 1 case: CuPy compiles (or loads) its kernels."""
    aold, anew = xp.zeros((3, 3)), xp.zeros((3, 3))
    step(aold, anew)
    anew[1, 1] += 1.0
    synchronize(anew)


def run_with(xp: ModuleType, n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The case with xp's arrays, after a warm-up (CuPy's kernel compile) that is timed apart."""
    serial_only("cupy", threads)
    _, compile_seconds = timed(lambda: warm_up(xp))
    return {**evolve(xp, n, steps, energy), "compile_seconds": compile_seconds}


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """The case on the GPU, with CuPy arrays."""
    if cupy is None:
        raise RuntimeError("cupy is not importable here (pip install cupy-cuda13x)")
    return run_with(cupy, n, steps, energy, threads)
