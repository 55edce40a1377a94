"""What the study's GPU approaches share: whether a GPU is here (asked cheaply, without crashing
where there is none), the launch geometry, the source cells as flat indices, and the GPU's own
roofline, the device-to-device copy bandwidth.

The device check loads the NVIDIA driver library (libcuda.so.1) with ctypes and asks it for its
devices (cuInit, cuDeviceGetCount): no CUDA package is imported, so approaches.py can ask it at
every import, and a machine without a driver answers at once, with the reason.

    python bench/approaches/gpu.py status       # {"device": bool, "why": ...} as JSON
    python bench/approaches/gpu.py bandwidth    # the device copy bandwidth as JSON (needs a GPU)
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from case import sources

#: Threads per block, (x along i, the contiguous axis; y along j): one thread per cell.
BLOCK = (32, 8)
#: The CUDA C step of the RawKernel and PyCUDA rows, its kernel, and the options both compile it
#: with: no fused multiply-add, so that the result is the reference's bit for bit.
KERNEL_SOURCE = Path(__file__).resolve().with_name("stencil_kernel.cu")
KERNEL_NAME = "stencil_step"
FMAD_OFF = ("--fmad=false",)


def simulated() -> bool:
    """Whether Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): Python threads, not a GPU."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _driver_devices() -> tuple[int, str]:
    """The number of CUDA devices the driver sees and the first one's name; (0, why) if none."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as error:
        return 0, f"the NVIDIA driver library libcuda.so.1 cannot be loaded here: {error}"
    code = cuda.cuInit(0)
    if code != 0:
        return 0, f"the NVIDIA driver is there but cuInit failed (CUDA error {code})"
    count = ctypes.c_int(0)
    code = cuda.cuDeviceGetCount(ctypes.byref(count))
    if code != 0 or count.value == 0:
        return 0, f"the NVIDIA driver sees no device (CUDA error {code}, {count.value} devices)"
    device, name = ctypes.c_int(0), ctypes.create_string_buffer(256)
    if cuda.cuDeviceGet(ctypes.byref(device), 0) == 0:
        cuda.cuDeviceGetName(name, len(name), device)
    return count.value, name.value.decode(errors="replace") or "unnamed device"


def device_status() -> tuple[bool, str]:
    """(True, the device) where a CUDA device is present; else (False, why not)."""
    count, what = _driver_devices()
    if count == 0:
        return False, what
    return True, f"{count} device{'s' if count > 1 else ''}, device 0: {what}"


def grid(n: int, block: tuple[int, int] = BLOCK) -> tuple[int, int]:
    """Blocks along x (i) and y (j) that cover the n x n interior, one thread per cell."""
    return math.ceil(n / block[0]), math.ceil(n / block[1])


def source_cells(n: int) -> np.ndarray:
    """The source cells as flat indices j * (n + 2) + i of the halo'd field, in the reference's
    order; a kernel adds the energy once per entry (two may coincide for tiny n)."""
    return np.array([(j + 1) * (n + 2) + (i + 1) for j, i in sources(n)], dtype=np.int64)


def launch_arguments(aold, anew, n: int, cells, energy: float) -> tuple:
    """stencil_step's arguments, the scalars as the C types it declares (int, int, double)."""
    return aold, anew, np.int32(n), cells, np.int32(len(cells)), np.float64(energy)


def add_sources_on_host(field: np.ndarray, n: int, energy: float) -> None:
    """The published study's host loop: energy added to each source cell of a host copy."""
    for j, i in sources(n):
        field[j + 1, i + 1] += energy


def copy_bandwidth(nbytes: int = 2 << 30, repetitions: int = 10) -> dict:
    """The device's own copy bandwidth: a device-to-device copy (cuMemcpyDtoD, through
    numba.cuda) of a float64 array of nbytes (2 GiB, far beyond any L2; less if the device has
    not 4x that free) into another, timed with CUDA events, best of `repetitions`, 16 B per
    element (one read, one write: one stencil update's traffic, as the CPU roofline counts)."""
    from numba import cuda

    free, _ = cuda.current_context().get_memory_info()
    n = max(min(nbytes, free // 4) // 8, 1 << 20)
    src, dst = cuda.device_array(n), cuda.device_array(n)
    src.copy_to_device(np.zeros(n))  # touched once, so that no first-use cost is timed
    dst.copy_to_device(src)
    times = []
    for _ in range(repetitions):
        start, end = cuda.event(), cuda.event()
        start.record()
        dst.copy_to_device(src)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)  # ms to s
    best = min(times)
    device = cuda.get_current_device()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    return {"measured": True, "gbs": 16 * n / best / 1e9, "spread": (max(times) - best) / best,
            "bytes_per_array": 8 * n, "repetitions": repetitions, "device": name,
            "compute_capability": ".".join(map(str, device.compute_capability)),
            "how": f"device-to-device copy (cuMemcpyDtoD via numba.cuda) of a {8 * n >> 20} MiB "
                   f"float64 array, CUDA events, best of {repetitions}, 16 B per element"}


def main(argv: list[str]) -> int:
    """`status` or `bandwidth`: prints one JSON object."""
    what = argv[0] if argv else "status"
    ok, why = device_status()
    if simulated():
        ok, why = False, "NUMBA_ENABLE_CUDASIM=1: Numba's CUDA simulator is not a device"
    if what == "status":
        print(json.dumps({"device": ok, "why": why}))
    elif what == "bandwidth":
        print(json.dumps(copy_bandwidth() if ok else {"measured": False, "why": f"no GPU ({why})"}))
    else:
        print(f"usage: {sys.argv[0]} status|bandwidth", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
