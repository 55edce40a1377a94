#pragma once
/// \file grid.hpp
/// The structured grid: how many interior cells along each axis and how far apart they are.

#include <array>
#include <cstddef>
#include <cstdint>

namespace calor {

/// Signed index type: loops over signed indices vectorise reliably and halo offsets may be
/// negative.
using index_t = std::ptrdiff_t;

/// Number of interior cells and spacing per axis; axes beyond `dim` have one cell and no halo.
struct Grid {
  int dim = 2;                        ///< 1, 2 or 3
  std::array<index_t, 3> n{1, 1, 1};  ///< interior cells along x (contiguous), y, z
  std::array<double, 3> h{1, 1, 1};   ///< spacing dx, dy, dz

  /// Interior cells in total.
  [[nodiscard]] index_t cells() const { return n[0] * n[1] * n[2]; }
};

}  // namespace calor
