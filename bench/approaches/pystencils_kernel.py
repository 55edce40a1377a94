"""pystencils: the update as a symbolic Assignment on two Fields, turned into C by
create_kernel and compiled by pystencils' CPU JIT, then called once per step from the shared
time loop (case.evolve), as pystencils' tutorials run a kernel: ``kernel(src=..., dst=...)``
and swap the arrays.

* ``ps.fields("src, dst: double[2D]")``: variable-sized fields, so one kernel serves any N and,
  under MPI (mpi_driver.py), any rank's block; the halo is the kernel's one ghost layer, which
  it reads and never writes — the study's Dirichlet halo.
* ``CreateKernelConfig(target=Target.CurrentCPU)`` with ``cpu.vectorize`` (enable,
  assume_inner_stride_one: our arrays are C-contiguous) and, for ``pystencils-openmp``,
  ``cpu.openmp`` (enable, num_threads): the CPU options pystencils 2.0 documents in
  ``pystencils.codegen.config`` (CpuOptions, VectorizationOptions, OpenMpOptions).

Arithmetic: the Assignment is written in the study's form; SymPy multiplies the constants out
(exact: powers of two) and sums the neighbours in its own order, and pystencils compiles with
-Ofast, so the field is not the reference bit for bit at the study's size; the comparison
harness checks heat, L2 and max to 1e-12 relative. pystencils caches compiled kernels in the
user's cache folder, so compile_seconds is large only the first time.
"""

from __future__ import annotations

from case import Step, evolve, serial_only, timed


def kernel(threads: int = 1, openmp: bool = False):
    """The compiled pystencils kernel (called as kernel(src=aold, dst=anew))."""
    import pystencils as ps

    src, dst = ps.fields("src, dst: double[2D]")  # axis 0 is j, axis 1 (contiguous) is i
    update = ps.Assignment(dst[0, 0], 0.5 * (src[0, 0] + 0.25 * (src[0, -1] + src[0, 1]
                                                                 + src[-1, 0] + src[1, 0])))
    config = ps.CreateKernelConfig(target=ps.Target.CurrentCPU)
    config.cpu.vectorize.enable = True
    config.cpu.vectorize.assume_inner_stride_one = True
    if openmp:
        config.cpu.openmp.enable = True
        config.cpu.openmp.num_threads = threads
    return ps.create_kernel(update, config).compile()


def _prepared(threads: int, openmp: bool) -> tuple[Step, float]:
    compiled, seconds = timed(lambda: kernel(threads, openmp))

    def step(aold, anew) -> None:
        compiled(src=aold, dst=anew)

    return step, seconds


def prepare(threads: int = 1) -> tuple[Step, float]:
    """The serial kernel (no OpenMP), compiled."""
    serial_only("pystencils", threads)
    return _prepared(1, False)


def prepare_openmp(threads: int = 1) -> tuple[Step, float]:
    """The OpenMP kernel on `threads` threads, compiled."""
    if threads < 1:
        raise ValueError(f"threads = {threads}: need at least 1")
    return _prepared(threads, True)


def run(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case with the serial kernel; see case.py."""
    return evolve(prepare, n, steps, energy, threads)


def run_openmp(n: int, steps: int, energy: float, threads: int = 1) -> dict:
    """Runs the stencil case with the OpenMP kernel on `threads` threads."""
    return evolve(prepare_openmp, n, steps, energy, threads)
