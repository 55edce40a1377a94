#pragma once
// The GPU roofline both GPU benchmarks print beside their figures: a device-to-device copy.

#include <cuda_runtime.h>

#include <cstddef>

#include "cuda/check.cuh"

namespace calor::bench {

/// GB/s of a device-to-device copy of `bytes` (bytes read + written), best of 5 after a warm-up.
inline double copy_bandwidth(std::size_t bytes) {
  void *a = nullptr, *b = nullptr;
  cuda::check(cudaMalloc(&a, bytes), "allocating the copy buffers");
  cuda::check(cudaMalloc(&b, bytes), "allocating the copy buffers");
  cuda::check(cudaMemset(a, 1, bytes), "filling the copy buffer");
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  float best = 1e30f;
  for (int r = 0; r < 6; ++r) {  // the first is a warm-up
    cudaEventRecord(start);
    cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (r > 0 && ms < best) best = ms;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * static_cast<double>(bytes) / (best * 1e-3) / 1e9;
}

}  // namespace calor::bench
