#include "calor/stats.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace calor {

Stats StatsAccumulator::finish() const {
  return Stats{sum + sum_c, min, max, std::sqrt(sq + sq_c)};
}

bool StatsAccumulator::surely_within(double limit) const {
  // A NaN or an infinity makes the sum NaN or infinite; once it is finite, min and max are
  // exact.
  return empty || (std::isfinite(sum + sum_c) && min >= -limit && max <= limit);
}

StatsAccumulator accumulate(const double* first, const index_t (&n)[3], index_t stride_y,
                            index_t stride_z) {
  StatsAccumulator acc;
  for (index_t k = 0; k < n[2]; ++k)
    for (index_t j = 0; j < n[1]; ++j)
      acc.merge(accumulate_row(first + j * stride_y + k * stride_z, n[0]));
  return acc;
}

StatsAccumulator accumulate(const double* first, const index_t (&n)[3], index_t stride_y,
                            index_t stride_z, int threads) {
  const index_t rows = n[1] * n[2];
  if (threads <= 1 || rows < 2 * static_cast<index_t>(threads))
    return accumulate(first, n, stride_y, stride_z);
  // The rows of a chunk reduced side by side, then merged in order: a buffer of kChunk
  // accumulators however many rows.
  constexpr index_t kChunk = 4096;
  std::vector<StatsAccumulator> part(static_cast<std::size_t>(std::min(rows, kChunk)));
  StatsAccumulator acc;
  for (index_t r0 = 0; r0 < rows; r0 += kChunk) {
    const index_t m = std::min(kChunk, rows - r0);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (index_t r = 0; r < m; ++r) {
      const index_t row = r0 + r;
      part[static_cast<std::size_t>(r)] =
          accumulate_row(first + (row % n[1]) * stride_y + (row / n[1]) * stride_z, n[0]);
    }
    for (index_t r = 0; r < m; ++r)
      acc.merge(part[static_cast<std::size_t>(r)]);
  }
  return acc;
}

StatsAccumulator accumulate(const Field& f, int threads) {
  const Grid& g = f.grid();
  const index_t n[3] = {g.n[0], g.n[1], g.n[2]};
  return accumulate(f.raw() + f.offset(0, 0, 0), n, f.stride_y(), f.stride_z(), threads);
}

}  // namespace calor
