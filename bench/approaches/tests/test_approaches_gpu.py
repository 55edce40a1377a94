"""The study's GPU approaches, tested without a GPU (issue 22): Numba-CUDA under Numba's CUDA
simulator, the CuPy code on NumPy arrays, the CUDA C kernel compiled by nvcc (PyCUDA's compiler)
and NVRTC (CuPy's) and run on the CPU, the PTX read for fused multiply-adds, and the registry's
"not run" rows. Where a GPU is present, test_approaches_bits.py runs the registered GPU rows on it
like every other row."""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import approaches
import case
import cupy_array
import gpu

APPROACHES_DIR = Path(__file__).resolve().parent.parent
NVCC = shutil.which("nvcc") or next((p for p in ["/usr/local/cuda/bin/nvcc"] if Path(p).exists()),
                                    None)
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not found (CUDA is not installed)")
#: float64 arithmetic in PTX: add, sub, mul, fma or mad, with any modifiers.
F64_ARITHMETIC = re.compile(r"\b(?:add|sub|mul|fma|mad)(?:\.\w+)*\.f64\b")


def f64_instructions(ptx: str) -> set[str]:
    """The distinct float64 arithmetic instructions (opcode and modifiers) in PTX text."""
    return set(F64_ARITHMETIC.findall(ptx))


# ----------------------------------------------------------------------------- Numba-CUDA

#: An energy that float64 cannot hold exactly: with it every sum rounds from the first step, so
#: that another order of the operations, or a fused multiply-add, changes the bits. (With 1.0
#: every value of a short run is a short binary fraction and every order gives the same bits.)
INEXACT = 0.1
#: (function, n, steps, energy, block): partial blocks (13 by 8 x 4), coinciding sources (3),
#: one block (12), and a heat balance (20 cells, 3 steps: no heat reaches the halo).
SIMULATED = [("run", 12, 3, 1.0, (32, 8)), ("run", 13, 4, INEXACT, (8, 4)),
             ("run", 3, 4, INEXACT, (8, 4)), ("run", 20, 3, 0.75, (8, 4)),
             ("run_hostloop", 12, 3, 1.0, (32, 8)), ("run_hostloop", 13, 4, INEXACT, (8, 4)),
             ("run_hostloop", 3, 4, INEXACT, (8, 4))]

SIMULATOR_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import numba_cuda_kernel
out = {}
for k, (function, n, steps, energy, block) in enumerate(json.loads(sys.argv[2])):
    result = getattr(numba_cuda_kernel, function)(n, steps, energy, block=tuple(block))
    np.save(f"{sys.argv[3]}/{k}.npy", result.pop("field"))
    out[k] = result
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """SIMULATED's results, from one process under NUMBA_ENABLE_CUDASIM=1 (the variable must be
    set before numba.cuda is first imported): [(case, field, times)]."""
    pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")
    folder = tmp_path_factory.mktemp("cudasim")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run([sys.executable, "-c", SIMULATOR_SCRIPT, str(APPROACHES_DIR),
                           json.dumps(SIMULATED), str(folder)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    times = json.loads(done.stdout.strip().splitlines()[-1])
    return [(c, np.load(folder / f"{k}.npy"), times[str(k)]) for k, c in enumerate(SIMULATED)]


@pytest.mark.parametrize("k", range(len(SIMULATED)))
def test_numba_cuda_under_the_simulator(simulated, k, reference, same_bits):
    (function, n, steps, energy, block), field, times = simulated[k]
    same_bits(field, reference(n, steps, energy), f"numba-cuda {function} n={n} steps={steps} "
                                                  f"block={block}, simulated")
    # The kernels are part of the loop, and the loop is part of the whole run.
    assert 0 <= times["kernel_seconds"] <= times["seconds"] <= times["end_to_end_seconds"]
    assert times["compile_seconds"] >= 0


def test_numba_cuda_conserves_heat_under_the_simulator(simulated):
    (_, n, steps, energy, _), field, _ = next(s for s in simulated if s[0][1] == 20)
    assert case.summary(field)["heat"] == pytest.approx(3 * energy * steps, rel=1e-12, abs=0)


def test_numba_cuda_kernel_has_no_fused_multiply_add():
    """The kernel compiled for sm_80 by NVVM (no device needed): every float64 operation is an
    explicitly rounded add.rn or mul.rn, which nothing may fuse. The same expression written
    plainly does become an fma: NVVM contracts by default, whatever fastmath says."""
    pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")
    from numba import cuda
    from numba.cuda.cudadrv import nvvm

    if not nvvm.is_available():
        pytest.skip("libNVVM not found (CUDA is not installed)")
    import numba_cuda_kernel

    ptx, _ = cuda.compile_ptx(numba_cuda_kernel.step_kernel.py_func,
                              numba_cuda_kernel.SIGNATURE, cc=(8, 0))
    assert ".entry" in ptx
    assert f64_instructions(ptx) == {"add.rn.f64", "mul.rn.f64"}
    assert len(re.findall(r"\bmul\.rn\.f64\b", ptx)) == 2  # 0.25 * (...) and 0.5 * (...)

    def plain(aold, anew):
        i = cuda.grid(1)
        if 0 < i < aold.shape[0] - 1:
            anew[i] = 0.5 * (aold[i] + 0.25 * (aold[i - 1] + aold[i + 1]))

    plain_ptx, _ = cuda.compile_ptx(plain, "void(float64[::1], float64[::1])", cc=(8, 0),
                                    fastmath=False)
    assert "fma.rn.f64" in f64_instructions(plain_ptx)


# ----------------------------------------------------------------------------- CuPy, agnostic


@pytest.mark.parametrize("n, steps, energy", [(48, 10, 1.0), (37, 10, INEXACT), (3, 4, INEXACT)])
def test_cupy_code_on_numpy_arrays(n, steps, energy, reference, same_bits):
    result = cupy_array.run_with(np, n, steps, energy)
    same_bits(result["field"], reference(n, steps, energy),
              f"cupy_array on NumPy, n={n} steps={steps} energy={energy}")
    assert 0 <= result["kernel_seconds"] <= result["end_to_end_seconds"]


def test_cupy_code_on_numpy_arrays_conserves_heat():
    field = cupy_array.run_with(np, 100, 10, 0.75)["field"]
    assert case.summary(field)["heat"] == pytest.approx(3 * 0.75 * 10, rel=1e-12, abs=0)


def test_cupy_code_takes_numpy_for_numpy_arrays():
    assert cupy_array.get_array_module(np.zeros(3)) is np
    with pytest.raises(ValueError, match="one thread"):
        cupy_array.run_with(np, 8, 1, 1.0, threads=2)


# ----------------------------------------------------------------------------- CUDA C


def nvcc(tmp_path: Path, *flags: str, output: str = "stencil.ptx") -> Path:
    """Compiles stencil_kernel.cu with nvcc and `flags`; the output file."""
    out = tmp_path / output
    done = subprocess.run([NVCC, *flags, str(gpu.KERNEL_SOURCE), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


@needs_nvcc
def test_cuda_kernel_compiles_with_nvcc(tmp_path):
    """As PyCUDA's SourceModule compiles it (nvcc --cubin with the row's options, here for the
    H100/H200's sm_90), and to PTX for sm_80: only explicitly rounded adds and multiplies.
    With nvcc's default --fmad=true the same source has an fma: the option is what matters."""
    assert nvcc(tmp_path, "--cubin", "-arch=sm_90", *gpu.FMAD_OFF,
                output="stencil.cubin").stat().st_size > 0
    ptx = nvcc(tmp_path, "--ptx", "-arch=sm_80", *gpu.FMAD_OFF).read_text()
    assert f".entry {gpu.KERNEL_NAME}(" in ptx
    assert f64_instructions(ptx) == {"add.rn.f64", "mul.rn.f64"}
    fused = nvcc(tmp_path, "--ptx", "-arch=sm_80", "-fmad=true", output="fused.ptx").read_text()
    assert "fma.rn.f64" in f64_instructions(fused)


def test_cuda_kernel_compiles_with_nvrtc():
    """As CuPy's RawKernel compiles it: NVRTC, the row's options and C++17 (CuPy's default)."""
    nvrtc = pytest.importorskip("cuda.bindings.nvrtc", reason="cuda-bindings is not installed")
    try:
        err, program = nvrtc.nvrtcCreateProgram(gpu.KERNEL_SOURCE.read_bytes(),
                                                b"stencil_kernel.cu", 0, [], [])
    except RuntimeError as error:  # libnvrtc not found
        pytest.skip(f"NVRTC is not available: {error}")
    assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS
    options = [o.encode() for o in (*gpu.FMAD_OFF, "-std=c++17", "-arch=compute_80")]
    (err,) = nvrtc.nvrtcCompileProgram(program, len(options), options)
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        _, size = nvrtc.nvrtcGetProgramLogSize(program)
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(program, log)
        pytest.fail(f"NVRTC: {err}: {log.decode(errors='replace')}")
    _, size = nvrtc.nvrtcGetPTXSize(program)
    ptx = b" " * size
    nvrtc.nvrtcGetPTX(program, ptx)
    nvrtc.nvrtcDestroyProgram(program)
    assert f64_instructions(ptx.decode()) == {"add.rn.f64", "mul.rn.f64"}


#: stencil_kernel.cu on the CPU: CUDA's built-in indices as globals, one call per thread.
EMULATION = """
#include <cstring>
struct Dim3 { unsigned x = 0, y = 0, z = 0; };
static Dim3 blockIdx, blockDim, threadIdx;
#define __global__
#include "stencil_kernel.cu"
extern "C" void launch(unsigned gx, unsigned gy, unsigned bx, unsigned by, const double* aold,
                       double* anew, int n, const long long* cells, int ncells, double energy) {
  blockDim.x = bx;
  blockDim.y = by;
  for (blockIdx.y = 0; blockIdx.y < gy; ++blockIdx.y)
    for (blockIdx.x = 0; blockIdx.x < gx; ++blockIdx.x)
      for (threadIdx.y = 0; threadIdx.y < by; ++threadIdx.y)
        for (threadIdx.x = 0; threadIdx.x < bx; ++threadIdx.x)
          stencil_step(aold, anew, n, cells, ncells, energy);
}
"""


@pytest.fixture(scope="module")
def emulated(tmp_path_factory):
    """stencil_kernel.cu compiled as C++ (g++ -ffp-contract=off) with EMULATION: its launch."""
    if shutil.which("g++") is None:
        pytest.skip("g++ not found")
    folder = tmp_path_factory.mktemp("emulated")
    (folder / "emulation.cpp").write_text(EMULATION)
    library = folder / "emulation.so"
    done = subprocess.run(["g++", "-std=c++17", "-O2", "-ffp-contract=off", "-shared", "-fPIC",
                           f"-I{APPROACHES_DIR}", str(folder / "emulation.cpp"), "-o",
                           str(library)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    launch = ctypes.CDLL(str(library)).launch
    pointer = np.ctypeslib.ndpointer
    launch.argtypes = [ctypes.c_uint] * 4 + [
        pointer(np.float64, flags="C"), pointer(np.float64, flags="C"), ctypes.c_int,
        pointer(np.int64, flags="C"), ctypes.c_int, ctypes.c_double]
    return launch


@pytest.mark.parametrize("n, steps, block, energy", [
    (13, 4, (8, 4), INEXACT), (12, 3, gpu.BLOCK, 1.0), (3, 4, (2, 2), INEXACT),
    (37, 10, (16, 16), INEXACT)])
def test_cuda_kernel_on_the_cpu(emulated, n, steps, block, energy, reference, same_bits):
    """The CUDA C kernel's indexing, bounds and fused sources, run thread by thread on the CPU
    over the rows' launch geometry (gpu.grid): the reference's bits."""
    aold, anew = case.fields(n)
    cells = gpu.source_cells(n)
    for _ in range(steps):
        emulated(*gpu.grid(n, block), *block, aold, anew, n, cells, len(cells), energy)
        aold, anew = anew, aold
    same_bits(aold[1:-1, 1:-1].copy(), reference(n, steps, energy),
              f"stencil_kernel.cu on the CPU, n={n}, block={block}, energy={energy}")


def test_source_cells_are_the_study_sources():
    cells = gpu.source_cells(4800)
    assert [(c // 4802 - 1, c % 4802 - 1) for c in cells] == case.sources(4800)
    assert len(set(gpu.source_cells(3))) == 2  # two sources coincide: each adds its energy


# ----------------------------------------------------------------------------- the registry


def test_without_a_gpu_every_row_says_so():
    runnable, not_run = approaches.gpu_rows((False, "no driver here"), False, lambda p: True)
    assert runnable == {} and list(not_run) == list(approaches.GPU)
    assert all(why == "not run: no GPU (no driver here)" for why in not_run.values())


def test_with_a_gpu_a_missing_package_is_named():
    runnable, not_run = approaches.gpu_rows((True, "1 device"), False,
                                            lambda package: package != "pycuda")
    assert set(runnable) == set(approaches.GPU) - {"pycuda"}
    assert runnable["cupy"] is approaches.GPU["cupy"]
    assert not_run == {"pycuda": "not run: pycuda is not installed (pip install pycuda on a "
                                 "machine with CUDA and a GPU)"}


def test_the_simulator_runs_only_numba_cuda():
    runnable, not_run = approaches.gpu_rows((False, "no driver"), True, lambda p: True)
    assert set(runnable) == {"numba-cuda", "numba-cuda-hostloop"}
    assert all(a.about.endswith(approaches.SIMULATED_ABOUT) for a in runnable.values())
    assert set(not_run) == {"cupy", "cupy-rawkernel", "pycuda"}


def test_gpu_rows_here_are_registered_or_say_why_not():
    """On this machine: each GPU row is either registered or listed as not run, never dropped;
    without a device, never registered (the CPU tests never try them)."""
    has_device, why = gpu.device_status()
    for name in approaches.GPU:
        assert (name in approaches.APPROACHES) != (name in approaches.UNAVAILABLE), name
        if not has_device and not gpu.simulated():
            assert approaches.UNAVAILABLE[name] == f"not run: no GPU ({why})"


def test_device_status_without_a_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        has_device, why = gpu.device_status()
        assert not has_device and "libcuda.so.1" in why
    else:
        pytest.skip("the NVIDIA driver library is here")


def test_launch_geometry_covers_the_interior_once():
    for n, block in [(4800, gpu.BLOCK), (13, (8, 4)), (3, (32, 8))]:
        gx, gy = gpu.grid(n, block)
        assert (gx - 1) * block[0] < n <= gx * block[0]
        assert (gy - 1) * block[1] < n <= gy * block[1]
