#pragma once
/// \file stats.hpp
/// Reductions over the interior: total heat, extremes and L2 norm.

#include "calor/field.hpp"

namespace calor {

/// Verification values of a field's interior.
struct Stats {
  double heat = 0;  ///< sum of the interior values (compensated summation)
  double min = 0;
  double max = 0;
  double l2 = 0;  ///< sqrt of the sum of squares
};

/// Partial sums that can be combined across threads or ranks before finishing.
struct StatsAccumulator {
  double sum = 0, sum_c = 0;  ///< Neumaier sum and its compensation
  double sq = 0, sq_c = 0;    ///< same for squares
  double min = 0, max = 0;
  bool empty = true;

  void add(double v);
  void merge(const StatsAccumulator& o);
  [[nodiscard]] Stats finish() const;
};

/// Reduces the interior of `f`, visiting cells x fastest.
StatsAccumulator accumulate(const Field& f);
inline Stats compute_stats(const Field& f) {
  return accumulate(f).finish();
}

}  // namespace calor
