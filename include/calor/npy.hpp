#pragma once
/// \file npy.hpp
/// Reading and writing NumPy .npy files (format 1.0/2.0/3.0, little-endian float64, C order).

#include <cstdint>
#include <string>
#include <vector>

namespace calor {

/// A dense float64 array as stored in a .npy file.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

/// Loads `path`; throws calor::Error naming the file and what is wrong (missing, not .npy, dtype
/// other than float64, Fortran order).
NpyArray load_npy(const std::string& path);
/// Writes `data` with `shape` to `path` (format 1.0, '<f8', C order); throws calor::Error on I/O
/// failure naming the file.
void save_npy(const std::string& path, const std::vector<std::int64_t>& shape, const double* data);

}  // namespace calor
