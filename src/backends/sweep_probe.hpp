#pragma once
// The case study's row kernel alone, timed on a grid of a given size: what llc_sweep_speed() and
// `calor bench node` use to see how fast each level of the memory hierarchy feeds it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "calor/field.hpp"
#include "calor/machine.hpp"
#include "calor/scheme.hpp"
#include "dispatch.hpp"
#include "sweep.hpp"

namespace calor::detail {

/// The fields' bytes of the two grids llc_sweep_speed() compares: one in half the L2, and one in
/// the last level (4 L2s, at most a quarter of it). A last level under 8 L2s gets none (0):
/// there is nothing to tell apart from the L2.
struct ProbeSizes {
  double l2 = 0, llc = 0;
};
inline ProbeSizes probe_sizes(const Caches& c) {
  const auto l2 = static_cast<double>(c.l2), llc = static_cast<double>(c.llc);
  return {0.5 * l2, llc >= 8.0 * l2 ? std::min(4.0 * l2, 0.25 * llc) : 0.0};
}

/// The best rate (updates per second) of a few sweeps of the case study's kernel (factored 5-point,
/// no sources: what the simd backend runs in cache, without its halo refill and checks) over a 2D
/// grid whose two fields take about `bytes`. Rows are at least 256 cells (32 vectors of 8), so that
/// a grid in the L1 cache, a few rows deep, is not timing row changes; wider grids are square. Each
/// timing is long enough (about 4 million updates) to rise above the clock's resolution.
class SweepProbe {
 public:
  explicit SweepProbe(double bytes) {
    Grid g;
    const auto nx = std::max<index_t>(256, static_cast<index_t>(std::sqrt(bytes / 16.0)));
    const auto ny =
        std::max<index_t>(2, static_cast<index_t>(bytes / (16.0 * static_cast<double>(nx))));
    g.n = {nx, ny, 1};
    a_ = Field(g);
    b_ = Field(g);
    passes_ = std::max<index_t>(1, index_t{4'000'000} / g.cells());
    scheme_.form = StencilForm::factored;
    scheme_.coeffs.c0 = 0.5;
    scheme_.coeffs.c1 = 0.1;
  }

  /// One timing; the best of all is kept.
  void time() {
    using Shape2D = Shape<2, StencilForm::factored, Heating::none>;
    const auto t0 = std::chrono::steady_clock::now();
    const index_t rows = row_count(a_.grid());
    for (index_t p = 0; p < passes_; ++p) {
      sweep_rows<Shape2D, false>(scheme_, a_, b_, 0, rows);
      std::swap(a_, b_);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = static_cast<double>(passes_ * a_.grid().cells()) / std::max(s, 1e-9);
    best_ = std::max(best_, rate);
  }
  [[nodiscard]] double best() const { return best_; }
  [[nodiscard]] const Grid& grid() const { return a_.grid(); }

 private:
  Scheme scheme_;
  Field a_, b_;
  index_t passes_ = 1;
  double best_ = 0;
};

}  // namespace calor::detail
