#pragma once
/// \file cell_values.hpp
/// A value per cell of the grid: the diffusivity alpha(x) or the heat-source rate q(x), given
/// by an array (from a .npy file, an HDF5 dataset or Python) or by a built-in shape.

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "calor/field.hpp"

namespace calor {

/// Where the values of a cell field come from.
enum class CellValuesKind {
  none,    ///< no field: the problem's constant applies everywhere
  array,   ///< `data`: one value per interior cell, x fastest (from .npy, HDF5 or Python)
  layers,  ///< `values[l]` between `bounds[l - 1]` and `bounds[l]` along `axis` (coordinates)
  box,     ///< `inside` in the box [lo, hi) (coordinates), the background elsewhere
  sphere,  ///< `inside` within `radius` of `centre`, the background elsewhere
};

/// A field of one value per cell. Coordinates are those of cell_coordinate(): cell i at (i+1) h.
struct CellValues {
  CellValuesKind kind = CellValuesKind::none;
  /// array: the values, x fastest (shared: the same array serves every rank's block).
  std::shared_ptr<const std::vector<double>> data;
  std::string source;   ///< where `data` came from, for messages and for writing the config back
  std::string dataset;  ///< the HDF5 dataset of `source`, if that is what it is
  int axis = 0;         ///< layers
  std::vector<double> bounds;  ///< layers: increasing coordinates of the interfaces
  std::vector<double> values;  ///< layers: bounds.size() + 1 values, the first below bounds[0]
  std::array<double, 3> lo{0, 0, 0}, hi{0, 0, 0};  ///< box
  std::array<double, 3> centre{0, 0, 0};           ///< sphere
  double radius = 0;                               ///< sphere
  double inside = 0;                               ///< box, sphere

  [[nodiscard]] bool empty() const { return kind == CellValuesKind::none; }
  /// The value at global interior cell (i, j, k) of `g`, `background` where the shape leaves it.
  [[nodiscard]] double at(const Grid& g, const std::array<index_t, 3>& cell,
                          double background) const;
  /// Throws calor::Error naming `key`: an array of the wrong size, layers whose bounds do not
  /// increase or whose values do not match them, a sphere of negative radius.
  void validate(const std::string& key, const Grid& g) const;
  /// Checks that every value is finite and, with `positive`, > 0: the first bad cell (global
  /// indices) and its value are named.
  void require_values(const std::string& key, const Grid& g, double background,
                      bool positive) const;
  /// The largest value over the grid (`background` included where the shape leaves it).
  [[nodiscard]] double max(const Grid& g, double background) const;
};

/// What `v` is, for headers and checkpoints: "layers along x: 1 | 0.05 | 2", "a box of 0.05 in
/// alpha", "an array from alpha.npy", "a sphere of 4 in 0", ...; "" for none. An array's values
/// are summarised by their range and a checksum, so that a changed file is noticed.
std::string describe(const CellValues& v, double background);

/// Fills every cell of `f`, halo included, from `v` (background where it leaves a cell): `f`
/// holds the cells of `global` from global index `origin`. A halo cell takes the value of its
/// global cell, wrapped around on a `periodic` axis and otherwise clamped to the nearest
/// interior cell (the material next to a face continues through it).
void fill_cell_values(const CellValues& v, double background, Field& f, const Grid& global,
                      const std::array<index_t, 3>& origin, const std::array<bool, 3>& periodic);

}  // namespace calor
