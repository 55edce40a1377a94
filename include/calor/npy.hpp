#pragma once
/// \file npy.hpp
/// Reading and writing NumPy .npy files (format 1.0/2.0/3.0, little-endian float64, C order).

#include <cstdint>
#include <string>
#include <vector>

#include "calor/grid.hpp"

namespace calor {

/// A dense float64 array as stored in a .npy file.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

/// The NumPy shape of a grid's interior: the slowest axis first, (ny, nx) for a 2D grid.
std::vector<std::int64_t> numpy_shape(const Grid& g);
/// A shape as NumPy prints it: "(3, 4)", "(5,)".
std::string shape_text(const std::vector<std::int64_t>& shape);

/// Loads `path`; throws calor::Error naming the file and what is wrong (missing, not .npy, dtype
/// other than float64, Fortran order).
NpyArray load_npy(const std::string& path);
/// Writes `data` with `shape` to `path` (format 1.0, '<f8', C order); throws calor::Error on I/O
/// failure naming the file.
void save_npy(const std::string& path, const std::vector<std::int64_t>& shape, const double* data);

}  // namespace calor
