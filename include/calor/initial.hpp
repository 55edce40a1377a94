#pragma once
/// \file initial.hpp
/// Initial conditions and the coordinates of cells.

#include <array>
#include <string>

#include "calor/field.hpp"

namespace calor {

/// How the field starts.
enum class InitialKind { zero, constant, gaussian, npy };

/// The initial state. A Gaussian is amplitude * exp(-|x - centre|^2 / (2 width^2)).
struct Initial {
  InitialKind kind = InitialKind::zero;
  double value = 0.0;                     ///< constant
  std::array<double, 3> centre{0, 0, 0};  ///< gaussian, in the coordinates of cell_coordinate()
  double width = 1.0;                     ///< gaussian standard deviation
  double amplitude = 1.0;                 ///< gaussian peak
  std::string path;                       ///< npy file: float64, C order, shape = grid (z, y, x)
};

/// Position of interior cell `i` along `axis`: (i + 1) * h. The low Dirichlet boundary node (the
/// halo) sits at 0 and the high one at (n + 1) h; a periodic axis has period n h.
inline double cell_coordinate(const Grid& g, int axis, index_t i) {
  return static_cast<double>(i + 1) * g.h[axis];
}

/// Sets the interior of `f` to the initial state (loading the .npy file if asked). `f` holds the
/// cells of `global` starting at global index `origin` (all of it on one process).
void apply_initial(const Initial& init, Field& f, const Grid& global,
                   const std::array<index_t, 3>& origin = {0, 0, 0});

}  // namespace calor
