"""CuPy RawKernel: the step in CUDA C (stencil_kernel.cu, shared with the PyCUDA row), compiled
at run time by NVRTC with --fmad=false, one thread per cell, the sources fused into the kernel;
the fields are CuPy arrays that stay on the device for the whole run.

Times: ``seconds`` (= ``kernel_seconds``) is the time loop of launches, synchronised at the end;
``end_to_end_seconds`` adds copying the fields to the device and back; ``compile_seconds`` is
NVRTC's compile (or CuPy's cache).
"""

from __future__ import annotations

import time

import numpy as np

from case import fields, serial_only, timed
from gpu import BLOCK, FMAD_OFF, KERNEL_NAME, KERNEL_SOURCE, grid, launch_arguments, source_cells


def prepare():
    """The kernel, compiled by NVRTC without fused multiply-adds; and the seconds it took."""
    import cupy

    def build():
        kernel = cupy.RawKernel(KERNEL_SOURCE.read_text(), KERNEL_NAME, options=FMAD_OFF)
        kernel.compile()
        return kernel

    return timed(build)


def run(n: int, steps: int, energy: float, threads: int = 1,
        block: tuple[int, int] = BLOCK) -> dict:
    """The case with the fields on the device throughout."""
    import cupy

    serial_only("cupy-rawkernel", threads)
    kernel, compile_seconds = prepare()
    stream = cupy.cuda.get_current_stream()
    start = time.perf_counter()
    aold, anew = map(cupy.asarray, fields(n))
    cells = cupy.asarray(source_cells(n))
    blocks = grid(n, block)
    stream.synchronize()
    loop = time.perf_counter()
    for _ in range(steps):
        kernel(blocks, block, launch_arguments(aold, anew, n, cells, energy))
        aold, anew = anew, aold
    stream.synchronize()
    seconds = time.perf_counter() - loop
    field = np.ascontiguousarray(cupy.asnumpy(aold)[1:-1, 1:-1])
    return {"field": field, "seconds": seconds, "kernel_seconds": seconds,
            "end_to_end_seconds": time.perf_counter() - start,
            "compile_seconds": compile_seconds}
