"""Numba-CUDA: the step as a ``numba.cuda.jit`` kernel, one thread per cell, as in the tama21 and
bs21 study's GPU notebooks; here with the sources fused into the kernel, so that the fields stay
on the device for the whole run. ``run_hostloop`` is the study's own GPU version instead: after
each step's kernel the field is copied to the host, a Python loop adds the energy there, and it
is copied back. Those copies, not the kernel, made up most of the study's GPU time (on its K40,
87 of 93 s at 4800², 500 steps); that row shows how much.

Bits. NVVM contracts ``a * b + c`` into a fused multiply-add by default (its ``-fma=1``) whatever
``fastmath`` says: ``fastmath=False`` only keeps the other fast-math options off, and numba-cuda
0.30 has no way to pass ``-fma=0`` (NVIDIA/numba-cuda#118). ``aold + 0.25 * (...)`` would then
round once instead of twice. So every operation of the kernel is a libdevice intrinsic with
explicit round-to-nearest rounding (``dadd_rn``, ``dmul_rn``): PTX ``add.rn.f64`` and
``mul.rn.f64``, which neither NVVM nor ptxas may fuse or reorder. The kernel then does the
reference's operations in its order, bit for bit (tests/test_approaches_gpu.py reads the PTX).
Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``), which has no libdevice, the same two
names are plain float64 operations, which round the same way.

Times. ``seconds`` is the time loop, as for every approach; ``kernel_seconds`` the kernels alone
(synchronised around the loop, or around each launch in the host-loop variant, whose loop also
copies); ``end_to_end_seconds`` adds copying the fields to the device and back.
"""

from __future__ import annotations

import time

import numpy as np
from numba import cuda
from numba.cuda.core import config

from case import fields, serial_only, timed
from gpu import BLOCK, add_sources_on_host, grid, source_cells

if config.ENABLE_CUDASIM:
    def add(x: float, y: float) -> float:
        """x + y, rounded to nearest (the simulator's stand-in for libdevice.dadd_rn)."""
        return x + y

    def mul(x: float, y: float) -> float:
        """x * y, rounded to nearest (the simulator's stand-in for libdevice.dmul_rn)."""
        return x * y
else:
    from numba.cuda.libdevice import dadd_rn as add, dmul_rn as mul

#: Signature of the kernel's arguments, for compiling it to PTX without a device.
SIGNATURE = "void(float64[:, ::1], float64[:, ::1], int64[::1], float64)"


@cuda.jit(fastmath=False)
def step_kernel(aold, anew, cells, energy):
    """anew(j, i) from aold, one thread per interior cell, x along i (the contiguous axis); then
    the energy, once per entry of `cells` (flat indices) that is this cell. In plain Python:
    0.5 * (aold[j, i] + 0.25 * (aold[j, i-1] + aold[j, i+1] + aold[j-1, i] + aold[j+1, i]))."""
    x, y = cuda.grid(2)
    i, j = x + 1, y + 1
    if j < aold.shape[0] - 1 and i < aold.shape[1] - 1:
        around = add(add(add(aold[j, i - 1], aold[j, i + 1]), aold[j - 1, i]), aold[j + 1, i])
        value = mul(0.5, add(aold[j, i], mul(0.25, around)))
        here = j * aold.shape[1] + i
        for k in range(cells.shape[0]):
            if cells[k] == here:
                value = add(value, energy)
        anew[j, i] = value


#: No source cell: the host-loop variant's kernel adds no energy (and the compile launch's).
NO_CELLS = np.array([-1], dtype=np.int64)


def prepare() -> float:
    """Compiles the kernel by launching it once on a 1 x 1 case; the seconds it took."""
    def launch() -> None:
        step_kernel[(1, 1), BLOCK](*map(cuda.to_device, fields(1)), cuda.to_device(NO_CELLS),
                                   1.0)
        cuda.synchronize()

    return timed(launch)[1]


def run(n: int, steps: int, energy: float, threads: int = 1,
        block: tuple[int, int] = BLOCK) -> dict:
    """The case with the fields on the device throughout and the sources fused in the kernel."""
    serial_only("numba-cuda", threads)
    compile_seconds = prepare()
    start = time.perf_counter()
    aold, anew = map(cuda.to_device, fields(n))
    cells = cuda.to_device(source_cells(n))
    blocks = grid(n, block)
    cuda.synchronize()
    loop = time.perf_counter()
    for _ in range(steps):
        step_kernel[blocks, block](aold, anew, cells, energy)
        aold, anew = anew, aold
    cuda.synchronize()
    seconds = time.perf_counter() - loop
    field = aold.copy_to_host()[1:-1, 1:-1].copy()
    return {"field": field, "seconds": seconds, "kernel_seconds": seconds,
            "end_to_end_seconds": time.perf_counter() - start,
            "compile_seconds": compile_seconds}


def run_hostloop(n: int, steps: int, energy: float, threads: int = 1,
                 block: tuple[int, int] = BLOCK) -> dict:
    """The published study's GPU version: each step, the kernel (without sources), the field
    copied to the host, the energy added by a Python loop there, and the field copied back
    (cuda.to_device, a new device array each step, as the study did)."""
    serial_only("numba-cuda-hostloop", threads)
    compile_seconds = prepare()
    start = time.perf_counter()
    aold, anew = map(cuda.to_device, fields(n))
    no_cells = cuda.to_device(NO_CELLS)
    blocks = grid(n, block)
    cuda.synchronize()
    loop = time.perf_counter()
    kernel_seconds = 0.0
    for _ in range(steps):
        launched = time.perf_counter()
        step_kernel[blocks, block](aold, anew, no_cells, energy)
        cuda.synchronize()
        kernel_seconds += time.perf_counter() - launched
        host = anew.copy_to_host()
        add_sources_on_host(host, n, energy)
        aold, anew = cuda.to_device(host), aold
    seconds = time.perf_counter() - loop
    field = aold.copy_to_host()[1:-1, 1:-1].copy()
    return {"field": field, "seconds": seconds, "kernel_seconds": kernel_seconds,
            "end_to_end_seconds": time.perf_counter() - start,
            "compile_seconds": compile_seconds}
