#include "calor/stats.hpp"

#include <cmath>

namespace calor {

namespace {

// Neumaier's compensated addition: the total is accurate to about one rounding, whatever the
// number of cells, so heat checks at 1e-9 hold on large grids.
inline void neumaier(double& sum, double& c, double v) {
  const double t = sum + v;
  c += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
  sum = t;
}

}  // namespace

void StatsAccumulator::add(double v) {
  neumaier(sum, sum_c, v);
  neumaier(sq, sq_c, v * v);
  if (empty) {
    min = max = v;
    empty = false;
  } else {
    min = v < min ? v : min;
    max = v > max ? v : max;
  }
}

void StatsAccumulator::merge(const StatsAccumulator& o) {
  if (o.empty) return;
  neumaier(sum, sum_c, o.sum);
  neumaier(sum, sum_c, o.sum_c);
  neumaier(sq, sq_c, o.sq);
  neumaier(sq, sq_c, o.sq_c);
  if (empty) {
    min = o.min;
    max = o.max;
    empty = false;
  } else {
    min = o.min < min ? o.min : min;
    max = o.max > max ? o.max : max;
  }
}

Stats StatsAccumulator::finish() const {
  return Stats{sum + sum_c, min, max, std::sqrt(sq + sq_c)};
}

StatsAccumulator accumulate(const Field& f) {
  StatsAccumulator acc;
  const Grid& g = f.grid();
  for (index_t k = 0; k < g.n[2]; ++k)
    for (index_t j = 0; j < g.n[1]; ++j) {
      const double* row = f.raw() + f.offset(0, j, k);
      for (index_t i = 0; i < g.n[0]; ++i)
        acc.add(row[i]);
    }
  return acc;
}

}  // namespace calor
