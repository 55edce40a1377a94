#pragma once
/// \file grid.hpp
/// The structured grid: how many interior cells along each axis and how far apart they are.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace calor {

/// Signed index type: loops over signed indices vectorise reliably and halo offsets may be
/// negative.
using index_t = std::ptrdiff_t;

/// a * b for sizes (a, b >= 0), or nothing where either is negative or the product does not fit
/// in index_t: what sizes memory must be multiplied through this.
[[nodiscard]] constexpr std::optional<index_t> checked_mul(index_t a, index_t b) {
  if (a < 0 || b < 0) return std::nullopt;
  if (a != 0 && b > std::numeric_limits<index_t>::max() / a) return std::nullopt;
  return a * b;
}

/// a + b for sizes (a, b >= 0), or nothing where either is negative or the sum does not fit.
[[nodiscard]] constexpr std::optional<index_t> checked_add(index_t a, index_t b) {
  if (a < 0 || b < 0 || b > std::numeric_limits<index_t>::max() - a) return std::nullopt;
  return a + b;
}

/// Number of interior cells and spacing per axis; axes beyond `dim` have one cell and no halo.
struct Grid {
  int dim = 2;                        ///< 1, 2 or 3
  std::array<index_t, 3> n{1, 1, 1};  ///< interior cells along x (contiguous), y, z
  std::array<double, 3> h{1, 1, 1};   ///< spacing dx, dy, dz

  /// Interior cells in total (unchecked: for a grid Problem::validate accepted).
  [[nodiscard]] index_t cells() const { return n[0] * n[1] * n[2]; }
  /// Interior cells in total, or nothing where a size is negative or the product overflows.
  [[nodiscard]] std::optional<index_t> checked_cells() const {
    const std::optional<index_t> xy = checked_mul(n[0], n[1]);
    return xy ? checked_mul(*xy, n[2]) : std::nullopt;
  }
};

}  // namespace calor
