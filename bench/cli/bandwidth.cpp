#include "bandwidth.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>

#include "backends/rows.hpp"
#include "backends/sweep.hpp"

namespace calor {

struct CopyKernel::Arrays {
  struct Free {
    void operator()(double* p) const { std::free(p); }
  };
  index_t n = 0;  // elements, whole vectors
  std::unique_ptr<double[], Free> src, dst;
};

CopyKernel::CopyKernel(std::size_t bytes, int threads)
    : arrays_(std::make_unique<Arrays>()), threads_(std::max(threads, 1)) {
  Arrays& a = *arrays_;
  a.n = static_cast<index_t>(bytes / sizeof(double)) / detail::kLanes * detail::kLanes;
  auto alloc = [&] {
    void* p = std::aligned_alloc(64, static_cast<std::size_t>(a.n) * sizeof(double));
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<double[], Arrays::Free>(static_cast<double*>(p));
  };
  a.src = alloc();
  a.dst = alloc();
  double* __restrict src = a.src.get();
  double* __restrict dst = a.dst.get();
  // Blocks of whole vectors per thread, touched first by the thread that copies them.
  const index_t vectors = a.n / detail::kLanes;
#pragma omp parallel num_threads(threads_)
  {
    const auto [lo, hi] =
        detail::static_block(vectors, omp_get_thread_num(), omp_get_num_threads());
    for (index_t i = lo * detail::kLanes; i < hi * detail::kLanes; ++i) {
      src[i] = static_cast<double>(i);
      dst[i] = 0.0;
    }
  }
}

CopyKernel::~CopyKernel() = default;

std::size_t CopyKernel::bytes() const {
  return static_cast<std::size_t>(arrays_->n) * sizeof(double);
}

double CopyKernel::copy_gbs(bool streaming, int passes) {
  const double* __restrict src = arrays_->src.get();
  double* __restrict dst = arrays_->dst.get();
  const index_t vectors = arrays_->n / detail::kLanes;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads_)
  {
    const auto [lo, hi] =
        detail::static_block(vectors, omp_get_thread_num(), omp_get_num_threads());
    for (int pass = 0; pass < passes; ++pass)
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
  // Keep the copy observable so that it cannot be optimised away.
  volatile double sink = dst[arrays_->n / 2];
  (void)sink;
  return 2.0 * static_cast<double>(bytes()) * std::max(passes, 1) / s / 1e9;
}

Bandwidth CopyKernel::measure(int reps, bool streaming, int passes) {
  double best = 0, worst = 1e300;
  for (int r = 0; r < std::max(reps, 1); ++r) {
    const double g = copy_gbs(streaming, passes);
    best = std::max(best, g);
    worst = std::min(worst, g);
  }
  Bandwidth bw;
  bw.gbs = best;
  // As a spread of times: (worst time - best time) / best time.
  bw.spread = best / worst - 1.0;
  bw.bytes = bytes();
  bw.threads = threads_;
  bw.streaming = streaming;
  return bw;
}

Bandwidth measure_copy_bandwidth(std::size_t bytes, int threads, int reps, bool streaming) {
  CopyKernel copy(bytes, threads);
  return copy.measure(reps, streaming);
}

}  // namespace calor
