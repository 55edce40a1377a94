#pragma once
/// \file source.hpp
/// Heat sources: point sources that add energy to one cell each step, and a volumetric rate.

#include <array>
#include <vector>

#include "calor/grid.hpp"

namespace calor {

/// Adds `energy` to interior cell `at` (0-based) after every step, as the case study does.
struct PointSource {
  std::array<index_t, 3> at{0, 0, 0};
  double energy = 0.0;
};

/// All sources of a problem.
struct Sources {
  std::vector<PointSource> points;  ///< applied after the stencil sweep, in this order
  double volumetric = 0.0;          ///< constant rate q: every interior cell gains q*dt per step
};

}  // namespace calor
