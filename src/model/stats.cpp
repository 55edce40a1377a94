#include "calor/stats.hpp"

#include <cmath>

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

StatsAccumulator accumulate(const Field& f) {
  const Grid& g = f.grid();
  const index_t n[3] = {g.n[0], g.n[1], g.n[2]};
  return accumulate(f.raw() + f.offset(0, 0, 0), n, f.stride_y(), f.stride_z());
}

}  // namespace calor
