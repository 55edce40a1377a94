#pragma once
/// \file box.hpp
/// A box of global cell indices, and how a range is split into nearly equal blocks.

#include <array>

#include "calor/grid.hpp"

namespace calor {

/// Cells [low, high) of the global grid along each axis.
struct Box {
  std::array<index_t, 3> low{0, 0, 0};
  std::array<index_t, 3> high{1, 1, 1};

  [[nodiscard]] index_t size(int axis) const { return high[axis] - low[axis]; }
  [[nodiscard]] index_t count() const { return size(0) * size(1) * size(2); }
  [[nodiscard]] bool contains(const std::array<index_t, 3>& c) const {
    for (int a = 0; a < 3; ++a)
      if (c[a] < low[a] || c[a] >= high[a]) return false;
    return true;
  }
  /// The whole of `g`.
  static Box of(const Grid& g) { return Box{{0, 0, 0}, g.n}; }
  /// The grid of this box's cells: `global`'s dimension and spacing, this box's extents (the
  /// local grid of a process's block).
  [[nodiscard]] Grid grid_in(const Grid& global) const {
    Grid g = global;
    for (int a = 0; a < 3; ++a)
      g.n[a] = size(a);
    return g;
  }
};

/// Block `part` of `parts` of the range [0, n): sizes differ by at most one, the remainder going
/// to the first blocks.
inline std::array<index_t, 2> block_range(index_t n, int parts, int part) {
  const index_t base = n / parts, extra = n % parts;
  const index_t lo = part * base + (part < extra ? part : extra);
  return {lo, lo + base + (part < extra ? 1 : 0)};
}

}  // namespace calor
