// The study's step as a CUDA C kernel, shared by the CuPy RawKernel row (cupy_rawkernel.py,
// compiled by NVRTC) and the PyCUDA SourceModule row (pycuda_kernel.py, compiled by nvcc).
// One thread per interior cell, x along i (the contiguous axis), y along j; the sources are
// fused: the energy is added once per entry of `cells` (flat indices j * (n + 2) + i) that is
// this cell, in their order, as the reference adds them after the step.
//
// Bits: compile with --fmad=false (both rows do; tests/test_approaches_gpu.py compiles this
// file with nvcc -fmad=false and reads the PTX), else aold + 0.25 * (...) and value + energy
// may become fused multiply-adds that round once instead of twice. The sum runs left to right,
// as in the reference: ((left + right) + below) + above.

extern "C" __global__ void stencil_step(const double* __restrict__ aold, double* __restrict__ anew,
                                        int n, const long long* __restrict__ cells, int ncells,
                                        double energy) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x + 1;
  const long long j = (long long)blockIdx.y * blockDim.y + threadIdx.y + 1;
  if (i > n || j > n) return;
  const long long w = n + 2;
  const long long c = j * w + i;
  double value = 0.5 * (aold[c] + 0.25 * (aold[c - 1] + aold[c + 1] + aold[c - w] + aold[c + w]));
  for (int k = 0; k < ncells; ++k) {
    if (cells[k] == c) value += energy;
  }
  anew[c] = value;
}
