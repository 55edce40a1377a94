#pragma once
/// \file field.hpp
/// Owned storage of one scalar field on a grid, with halo layers around the interior.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "calor/grid.hpp"

namespace calor {

/// Where a field's values live. Host memory is what every CPU backend steps and what outputs,
/// health checks, statistics and Python views read; a device field (a GPU backend's) reaches
/// them only through the run's one "to host" path (Method::state in src/run/).
enum class MemorySpace {
  host,
  device,
};

/// "host" or "device".
const char* to_string(MemorySpace s);

/// A memory size for messages: "23.4 GiB" below a TiB, else "2.68e+08 TiB".
std::string memory_size(double bytes);
/// This machine's physical memory for messages: memory_size(physical_memory()), or "an unknown
/// amount of memory".
std::string machine_memory();

/// A float64 field of `grid.n` interior cells plus `halo` ghost layers on each active axis.
/// x is contiguous; element (i, j, k) of the interior, halo included for i in [-halo, n+halo),
/// lives at `offset(i, j, k)`. Storage is zero-initialised, and every row's first interior cell
/// (0, j, k) is 64-byte aligned: x rows are padded in front of the halo and at the end to whole
/// cache lines, so that vector stores need no peeling and every row has the same alignment.
class Field {
 public:
  Field() = default;
  /// Allocates a zeroed field in `space`; inactive axes (>= grid.dim) get no halo. Throws
  /// calor::Error for device memory where there is no CUDA device (or build), and, before
  /// allocating, for a size that overflows index_t or exceeds this machine's physical (or the
  /// device's) memory, naming both; an allocation that fails is an Error naming the size too.
  /// A device field's raw() is a device pointer: only device code and copy_field read it.
  /// A host field of several MiB is zeroed by `threads` threads (1 or less: one), each a
  /// contiguous share: the first touch, so its pages are placed near (and cleared by) the
  /// threads that will sweep it.
  explicit Field(const Grid& grid, int halo = 1, MemorySpace space = MemorySpace::host,
                 int threads = 1);

  [[nodiscard]] MemorySpace space() const { return space_; }

  [[nodiscard]] const Grid& grid() const { return grid_; }
  [[nodiscard]] int halo() const { return halo_; }
  /// Halo width along `axis` (0 on inactive axes).
  [[nodiscard]] index_t halo(int axis) const { return ghost_[axis]; }
  /// Interior cells along `axis`.
  [[nodiscard]] index_t n(int axis) const { return grid_.n[axis]; }
  /// Distance in elements between neighbours along y and z.
  [[nodiscard]] index_t stride_y() const { return sy_; }
  [[nodiscard]] index_t stride_z() const { return sz_; }
  /// Elements in the allocation, halo and padding included.
  [[nodiscard]] index_t size() const { return size_; }
  /// Elements allocated along `axis`: the x rows' length with padding (stride_y), else
  /// n + 2 halo.
  [[nodiscard]] index_t extent(int axis) const { return extent_[axis]; }
  /// Position of interior index 0 along `axis` within its extent: halo(axis), except for x,
  /// where the padding in front puts it on a cache-line boundary.
  [[nodiscard]] index_t origin(int axis) const { return origin_[axis]; }

  /// Offset of interior cell (i, j, k) from `raw()`; negative or >= n reaches into the halo.
  [[nodiscard]] index_t offset(index_t i, index_t j = 0, index_t k = 0) const {
    return (i + origin_[0]) + sy_ * (j + origin_[1]) + sz_ * (k + origin_[2]);
  }
  double& operator()(index_t i, index_t j = 0, index_t k = 0) { return data_[offset(i, j, k)]; }
  double operator()(index_t i, index_t j = 0, index_t k = 0) const {
    return data_[offset(i, j, k)];
  }

  /// Start of the allocation (halo included).
  [[nodiscard]] double* raw() { return data_.get(); }
  [[nodiscard]] const double* raw() const { return data_.get(); }

  /// Copies the interior into a dense C-order array (x fastest) of grid.cells() values.
  void copy_interior_to(double* dense) const;
  /// Fills the interior from a dense array laid out as copy_interior_to writes it.
  void copy_interior_from(const double* dense);

 private:
  struct Free {
    // (Constructors, not default member initialisers: those are not seen until Field is
    // complete, and unique_ptr's default constructor needs Free's before.)
    Free() : space(MemorySpace::host) {}
    explicit Free(MemorySpace s) : space(s) {}
    MemorySpace space;
    void operator()(double* p) const;
  };
  Grid grid_{};
  int halo_ = 0;
  MemorySpace space_ = MemorySpace::host;
  std::array<index_t, 3> ghost_{0, 0, 0}, origin_{0, 0, 0}, extent_{1, 1, 1};
  index_t sy_ = 0, sz_ = 0, size_ = 0;
  std::unique_ptr<double[], Free> data_;
};

/// Calls `f(i, j, k)` for every interior cell, x fastest.
template <class F>
void for_each_cell(const Grid& g, F&& f) {
  for (index_t k = 0; k < g.n[2]; ++k)
    for (index_t j = 0; j < g.n[1]; ++j)
      for (index_t i = 0; i < g.n[0]; ++i)
        f(i, j, k);
}

}  // namespace calor
