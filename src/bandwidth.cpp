#include "calor/bandwidth.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

#include "backends/rows.hpp"
#include "backends/sweep.hpp"

namespace calor {

Bandwidth measure_copy_bandwidth(std::size_t bytes, int threads, int reps, bool streaming) {
  const auto n = static_cast<index_t>(bytes / sizeof(double)) / detail::kLanes * detail::kLanes;
  auto alloc = [&] {
    void* p = std::aligned_alloc(64, static_cast<std::size_t>(n) * sizeof(double));
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<double[], decltype(&std::free)>(static_cast<double*>(p), &std::free);
  };
  auto a = alloc(), b = alloc();
  double* __restrict src = a.get();
  double* __restrict dst = b.get();
  // Blocks of whole vectors per thread, touched first by the thread that copies them.
  const index_t vectors = n / detail::kLanes;
#pragma omp parallel num_threads(threads)
  {
    const auto [lo, hi] =
        detail::static_block(vectors, omp_get_thread_num(), omp_get_num_threads());
    for (index_t i = lo * detail::kLanes; i < hi * detail::kLanes; ++i) {
      src[i] = static_cast<double>(i);
      dst[i] = 0.0;
    }
  }
  double best = 1e30, worst = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const auto [lo, hi] =
          detail::static_block(vectors, omp_get_thread_num(), omp_get_num_threads());
      for (index_t v = lo; v < hi; ++v) {
        const index_t i = v * detail::kLanes;
        if (streaming)
          detail::stream(dst + i, detail::load(src + i));
        else
          detail::store(dst + i, detail::load(src + i));
      }
      detail::stream_fence();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    worst = std::max(worst, s);
  }
  // Keep the copy observable so that it cannot be optimised away.
  volatile double sink = dst[n / 2];
  (void)sink;
  Bandwidth bw;
  bw.gbs = 2.0 * static_cast<double>(n) * sizeof(double) / best / 1e9;
  bw.spread = (worst - best) / best;
  bw.bytes = static_cast<std::size_t>(n) * sizeof(double);
  bw.threads = threads;
  bw.streaming = streaming;
  return bw;
}

}  // namespace calor
