// Serial FFTW plans of the whole grid (r2c/c2r or separable r2r) and the planner lock and flags
// every plan shares. Built only with FFTW (CMakeLists.txt).

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <numbers>

#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/initial.hpp"
#include "calor/machine.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

namespace calor {

namespace detail {

std::unique_lock<std::mutex> lock_fftw_planner() {
  static std::mutex planner;
  static std::once_flag once;
  std::unique_lock<std::mutex> lock(planner);
  std::call_once(once, [] {
    if (fftw_init_threads() == 0) throw Error("FFTW could not initialise its threads");
  });
  return lock;
}

unsigned fftw_planner_flags(FftPlanning p) {
  switch (p) {
    case FftPlanning::measure:
      return FFTW_MEASURE;
    case FftPlanning::patient:
      return FFTW_PATIENT;
    case FftPlanning::estimate:
      break;
  }
  return FFTW_ESTIMATE;
}

}  // namespace detail

FftPlans::~FftPlans() {
  if (forward_plan != nullptr || backward_plan != nullptr) {
    auto lock = detail::lock_fftw_planner();  // plan destruction shares the planner's tables
    if (forward_plan != nullptr) fftw_destroy_plan(forward_plan);
    if (backward_plan != nullptr) fftw_destroy_plan(backward_plan);
  }
  fftw_free(buffer);
}

void FftPlans::forward() {
  fftw_execute(forward_plan);
}

void FftPlans::backward() {
  fftw_execute(backward_plan);
}

namespace detail {

namespace {

int fftw_size(index_t n) {
  if (n > INT_MAX) throw Error("grid axis of " + std::to_string(n) + " cells is too long for FFTW");
  return static_cast<int>(n);
}

// All-periodic problems: FFTW's multi-dimensional in-place r2c / c2r pair (x padded to
// 2 (n/2 + 1) doubles), threaded by FFTW itself.
class R2cFftPlans final : public FftPlans {
 public:
  R2cFftPlans(const Grid& g, const std::array<FftKind, 3>& k, int nthreads, FftPlanning planning) {
    kinds = k;
    threads = nthreads;
    complex = true;
    const int d = g.dim;
    int n[3] = {1, 1, 1};
    for (int i = 0; i < d; ++i) {  // FFTW's order is C order: the outermost axis first
      const int a = d - 1 - i;
      n[i] = fftw_size(g.n[a]);
      real_axes.push_back({a, g.n[a], 0, g.n[a]});
      const index_t ns = a == 0 ? g.n[0] / 2 + 1 : g.n[a];
      spec_axes.push_back({a, ns, 0, ns});
    }
    real_pitch = 2 * (g.n[0] / 2 + 1);
    const index_t values = g.cells() / g.n[0] * real_pitch;
    buffer = fftw_alloc_real(static_cast<std::size_t>(values));
    if (buffer == nullptr)
      throw Error("cannot allocate " + std::to_string(values * 8 / (1 << 20)) +
                  " MiB for the spectral transform");
    std::fill(buffer, buffer + values, 0.0);
    description = describe_kinds(d, k);

    auto lock = lock_fftw_planner();
    fftw_plan_with_nthreads(threads);
    const unsigned flags = fftw_planner_flags(planning);
    const auto t0 = std::chrono::steady_clock::now();
    auto* c = reinterpret_cast<fftw_complex*>(buffer);
    forward_plan = fftw_plan_dft_r2c(d, n, buffer, c, flags);
    backward_plan = fftw_plan_dft_c2r(d, n, c, buffer, flags);
    planning_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (forward_plan == nullptr || backward_plan == nullptr)
      throw Error("FFTW could not plan the " + description + " transform");
  }
};

// The separable r2r transforms (RODFT00 and R2HC per axis) as batches of 1D lines, each line
// through FFTW's r2c (c2r for HC2R), with the threads over the lines. Why not FFTW's own r2r
// plans: a DST-I of n points is a real DFT of 2 (n + 1); for the case study, n + 1 = 4801 is
// prime, where FFTW's r2r planner takes its Hartley-based Rader algorithm, 2-3x slower than the
// complex Rader inside its r2c, and its threaded estimate plans split every line among the
// threads (a synchronisation per line), which made 2 threads slower than 1. Here each thread
// transforms whole blocks of lines in its own small buffer: the same FFTW kernels, no sharing.
class LineFftPlans final : public FftPlans {
 public:
  LineFftPlans(const Grid& g, const std::array<FftKind, 3>& k, int nthreads, FftPlanning planning) {
    kinds = k;
    threads = std::max(nthreads, 1);
    complex = false;
    const int d = g.dim;
    for (int i = 0; i < d; ++i) {
      const int a = d - 1 - i;
      real_axes.push_back({a, g.n[a], 0, g.n[a]});
      spec_axes.push_back({a, g.n[a], 0, g.n[a]});
    }
    real_pitch = g.n[0];
    const index_t values = std::max<index_t>(g.cells(), 1);
    buffer = fftw_alloc_real(static_cast<std::size_t>(values));
    if (buffer == nullptr)
      throw Error("cannot allocate " + std::to_string(values * 8 / (1 << 20)) +
                  " MiB for the spectral transform");
    std::fill(buffer, buffer + values, 0.0);
    description = describe_kinds(d, k) + " by r2c lines";

    index_t stride = 1;
    std::size_t real_work = 1, complex_work = 1;
    for (int a = 0; a < d; ++a) {
      Pass p;
      p.kind = k[a];
      p.n = g.n[a];
      p.stride = stride;
      p.lines = g.cells() / g.n[a];
      p.length = p.kind == FftKind::dst1 ? 2 * (p.n + 1) : p.n;
      stride *= g.n[a];
      passes_.push_back(p);
      real_work = std::max(real_work, static_cast<std::size_t>(kBlock * p.length));
      complex_work = std::max(complex_work, static_cast<std::size_t>(kBlock * (p.length / 2 + 1)));
    }
    for (int t = 0; t < threads; ++t) {
      real_.push_back(fftw_alloc_real(real_work));
      complex_.push_back(fftw_alloc_complex(complex_work));
      if (real_.back() == nullptr || complex_.back() == nullptr)
        throw Error("cannot allocate the spectral transform's line buffers");
    }

    auto lock = lock_fftw_planner();
    fftw_plan_with_nthreads(1);  // the threads are ours, over the lines
    const unsigned flags = fftw_planner_flags(planning);
    const auto t0 = std::chrono::steady_clock::now();
    for (Pass& p : passes_) {
      const int len = fftw_size(p.length), half = len / 2 + 1;
      p.r2c = fftw_plan_many_dft_r2c(1, &len, kBlock, real_[0], nullptr, 1, len, complex_[0],
                                     nullptr, 1, half, flags);
      if (p.kind == FftKind::r2hc)
        p.c2r = fftw_plan_many_dft_c2r(1, &len, kBlock, complex_[0], nullptr, 1, half, real_[0],
                                       nullptr, 1, len, flags);
      if (p.r2c == nullptr || (p.kind == FftKind::r2hc && p.c2r == nullptr))
        throw Error("FFTW could not plan a line transform of " + std::to_string(len) + " points");
    }
    planning_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  ~LineFftPlans() override {
    {
      auto lock = lock_fftw_planner();
      for (Pass& p : passes_) {
        if (p.r2c != nullptr) fftw_destroy_plan(p.r2c);
        if (p.c2r != nullptr) fftw_destroy_plan(p.c2r);
      }
    }
    for (double* w : real_)
      fftw_free(w);
    for (fftw_complex* w : complex_)
      fftw_free(w);
  }
  LineFftPlans(const LineFftPlans&) = delete;
  LineFftPlans& operator=(const LineFftPlans&) = delete;

  void forward() override {
    for (const Pass& p : passes_)
      run(p, false);
  }
  void backward() override {
    for (const Pass& p : passes_)
      run(p, true);
  }

 private:
  /// Lines per FFTW call: 8 doubles fill a cache line when gathering strided lines side by side.
  static constexpr int kBlock = 8;

  struct Pass {
    FftKind kind = FftKind::dst1;
    index_t n = 1, stride = 1, lines = 1, length = 1;  // length: of the real DFT per line
    fftw_plan r2c = nullptr, c2r = nullptr;
  };

  // Applies the 1D transform of `p` (its inverse if `backward`: RODFT00 is its own) to every line
  // along its axis. Line l starts at (l / s) n s + l % s for stride s: neighbouring lines are
  // neighbours in memory, so a block of lines is gathered a cache line at a time.
  void run(const Pass& p, bool backward) {
    const index_t n = p.n, s = p.stride, len = p.length, half = len / 2 + 1;
    const index_t blocks = (p.lines + kBlock - 1) / kBlock;
    double* const buf = buffer;
#pragma omp parallel num_threads(threads)
    {
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      double* const rw = real_[t];
      fftw_complex* const cw = complex_[t];
      index_t off[kBlock];
#pragma omp for schedule(static)
      for (index_t blk = 0; blk < blocks; ++blk) {
        const index_t l0 = blk * kBlock;
        const int nb = static_cast<int>(std::min<index_t>(kBlock, p.lines - l0));
        for (int b = 0; b < nb; ++b)
          off[b] = (l0 + b) / s * n * s + (l0 + b) % s;
        if (nb < kBlock) {  // a short last block: the unused lines transform zeros
          std::fill(rw, rw + kBlock * len, 0.0);
          std::fill(&cw[0][0], &cw[0][0] + 2 * kBlock * half, 0.0);
        }
        if (p.kind == FftKind::dst1) {
          // Odd extension: 0, x_0 .. x_(n-1), 0, -x_(n-1) .. -x_0; its DFT is -2i times the DST-I.
          for (int b = 0; b < nb; ++b) {
            rw[b * len] = 0.0;
            rw[b * len + n + 1] = 0.0;
          }
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b) {
              const double v = buf[off[b] + j * s];
              rw[b * len + 1 + j] = v;
              rw[b * len + len - 1 - j] = -v;
            }
          fftw_execute_dft_r2c(p.r2c, rw, cw);
          for (index_t m = 0; m < n; ++m)
            for (int b = 0; b < nb; ++b)
              buf[off[b] + m * s] = -cw[b * half + m + 1][1];
        } else if (!backward) {  // R2HC: r_0 .. r_(n/2), then i_k at n - k
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b)
              rw[b * len + j] = buf[off[b] + j * s];
          fftw_execute_dft_r2c(p.r2c, rw, cw);
          for (index_t m = 0; m < half; ++m)
            for (int b = 0; b < nb; ++b) {
              buf[off[b] + m * s] = cw[b * half + m][0];
              if (m > 0 && 2 * m < n) buf[off[b] + (n - m) * s] = cw[b * half + m][1];
            }
        } else {  // HC2R
          for (index_t m = 0; m < half; ++m)
            for (int b = 0; b < nb; ++b) {
              cw[b * half + m][0] = buf[off[b] + m * s];
              cw[b * half + m][1] = m > 0 && 2 * m < n ? buf[off[b] + (n - m) * s] : 0.0;
            }
          fftw_execute_dft_c2r(p.c2r, cw, rw);
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b)
              buf[off[b] + j * s] = rw[b * len + j];
        }
      }
    }
  }

  std::vector<Pass> passes_;
  std::vector<double*> real_;
  std::vector<fftw_complex*> complex_;
};

}  // namespace

std::unique_ptr<FftPlans> make_serial_fft_plans(const Grid& g, const std::array<FftKind, 3>& kinds,
                                                int threads, FftPlanning planning) {
  if (kinds[0] == FftKind::dft_half)
    return std::make_unique<R2cFftPlans>(g, kinds, threads, planning);
  return std::make_unique<LineFftPlans>(g, kinds, threads, planning);
}

}  // namespace detail

}  // namespace calor
