#include "calor/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "calor/error.hpp"

namespace calor {

double TimeTable::at(double t) const {
  if (points.empty()) return 0.0;
  if (t <= points.front().first) return points.front().second;
  if (t >= points.back().first) return points.back().second;
  // The first point after t; t lies in [before.first, after.first).
  const auto after = std::upper_bound(points.begin(), points.end(), t,
                                      [](double v, const auto& p) { return v < p.first; });
  const auto before = after - 1;
  const double w = (t - before->first) / (after->first - before->first);
  return before->second + w * (after->second - before->second);
}

void TimeTable::validate(const std::string& key) const {
  char buf[160];
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto [t, v] = points[i];
    if (!std::isfinite(t) || !std::isfinite(v)) {
      std::snprintf(buf, sizeof buf, "%s[%zu] = [%g, %g] is not finite", key.c_str(), i, t, v);
      throw Error(buf);
    }
    if (i > 0 && !(t > points[i - 1].first)) {
      std::snprintf(buf, sizeof buf,
                    "%s: the times of a table must increase, but point %zu has time %g after "
                    "time %g",
                    key.c_str(), i, t, points[i - 1].first);
      throw Error(buf);
    }
  }
}

}  // namespace calor
