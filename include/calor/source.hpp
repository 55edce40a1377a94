#pragma once
/// \file source.hpp
/// Heat sources: point sources that add energy to one cell each step, a uniform volumetric rate
/// and a rate that varies in space.

#include <array>
#include <vector>

#include "calor/cell_values.hpp"
#include "calor/grid.hpp"
#include "calor/table.hpp"

namespace calor {

/// Adds `energy` to interior cell `at` (0-based) after every step, as the case study does.
struct PointSource {
  std::array<index_t, 3> at{0, 0, 0};
  double energy = 0.0;
  TimeTable table;  ///< energy over time, if it changes (replacing `energy`)

  /// The energy added by the step that starts at time `t`.
  [[nodiscard]] double energy_at(double t) const { return table.empty() ? energy : table.at(t); }
};

/// All sources of a problem.
struct Sources {
  std::vector<PointSource> points;  ///< applied after the stencil sweep, in this order
  double volumetric = 0.0;          ///< constant rate q: every interior cell gains q*dt per step
  CellValues field;  ///< a rate q(x) per cell (0 where a shape leaves a cell), added to volumetric

  /// True when a point source's energy follows a time table.
  [[nodiscard]] bool time_dependent() const {
    for (const PointSource& p : points)
      if (!p.table.empty()) return true;
    return false;
  }
};

}  // namespace calor
