"""PyCUDA SourceModule, as in the SHARCNET and Parallel Python tutorials: the step in CUDA C
(stencil_kernel.cu, shared with the CuPy RawKernel row), compiled by nvcc with --fmad=false
when the module is built, one thread per cell, the sources fused into the kernel; the fields
are GPUArrays that stay on the device for the whole run.

pycuda is a source distribution (requirements.txt pins it): it builds against /usr/local/cuda
without a GPU, but its driver module needs the NVIDIA driver's libcuda.so.1 to import, and
SourceModule needs nvcc on the PATH at run time. Where it is not installed, the row says so.

Times: ``seconds`` (= ``kernel_seconds``) is the time loop of launches, synchronised at the end;
``end_to_end_seconds`` adds copying the fields to the device and back; ``compile_seconds`` is
nvcc's compile (or PyCUDA's cache).
"""

from __future__ import annotations

import time

import numpy as np

from case import fields, serial_only, timed
from gpu import BLOCK, FMAD_OFF, KERNEL_NAME, KERNEL_SOURCE, grid, launch_arguments, source_cells


def prepare():
    """The kernel, compiled by nvcc without fused multiply-adds; and the seconds it took. The
    source declares the kernel extern "C" itself, so PyCUDA is told not to wrap it again."""
    # Device 0's primary context, the one Numba and CuPy use too: autoinit's own context
    # would be current afterwards, and Numba refuses to work in a context not primary.
    import pycuda.autoprimaryctx  # noqa: F401
    from pycuda.compiler import SourceModule

    def build():
        module = SourceModule(KERNEL_SOURCE.read_text(), options=list(FMAD_OFF),
                              no_extern_c=True)
        return module.get_function(KERNEL_NAME)

    return timed(build)


def run(n: int, steps: int, energy: float, threads: int = 1,
        block: tuple[int, int] = BLOCK) -> dict:
    """The case with the fields on the device throughout."""
    import pycuda.driver as driver
    import pycuda.gpuarray as gpuarray

    serial_only("pycuda", threads)
    kernel, compile_seconds = prepare()
    start = time.perf_counter()
    aold, anew = map(gpuarray.to_gpu, fields(n))
    cells = gpuarray.to_gpu(source_cells(n))
    blocks = grid(n, block)
    driver.Context.synchronize()
    loop = time.perf_counter()
    for _ in range(steps):
        kernel(*launch_arguments(aold, anew, n, cells, energy), block=(*block, 1), grid=blocks)
        aold, anew = anew, aold
    driver.Context.synchronize()
    seconds = time.perf_counter() - loop
    field = np.ascontiguousarray(aold.get()[1:-1, 1:-1])
    return {"field": field, "seconds": seconds, "kernel_seconds": seconds,
            "end_to_end_seconds": time.perf_counter() - start,
            "compile_seconds": compile_seconds}
