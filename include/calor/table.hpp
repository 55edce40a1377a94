#pragma once
/// \file table.hpp
/// Values that change in time: a piecewise-linear table of (time, value) points.

#include <string>
#include <utility>
#include <vector>

namespace calor {

/// A piecewise-linear function of time through `points` (strictly increasing times), constant
/// before the first point and after the last. Empty: no table (the constant value applies).
struct TimeTable {
  std::vector<std::pair<double, double>> points;

  [[nodiscard]] bool empty() const { return points.empty(); }
  /// The value at time `t`.
  [[nodiscard]] double at(double t) const;
  /// Throws calor::Error naming `key` if a time or value is not finite or the times do not
  /// increase strictly (quoting the first offending point).
  void validate(const std::string& key) const;
};

}  // namespace calor
