#include "calor/field.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace calor {

void Field::Free::operator()(double* p) const {
  std::free(p);
}

Field::Field(const Grid& grid, int halo) : grid_(grid), halo_(halo) {
  for (int a = 0; a < 3; ++a)
    ghost_[a] = a < grid.dim ? halo : 0;
  const index_t ex = grid.n[0] + 2 * ghost_[0];
  const index_t ey = grid.n[1] + 2 * ghost_[1];
  const index_t ez = grid.n[2] + 2 * ghost_[2];
  sy_ = ex;
  sz_ = ex * ey;
  size_ = sz_ * ez;
  // 64-byte alignment: a cache line, and a full AVX-512 vector.
  const std::size_t bytes = ((static_cast<std::size_t>(size_) * sizeof(double) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(static_cast<double*>(p));
}

void Field::copy_interior_to(double* dense) const {
  const index_t nx = grid_.n[0];
  for (index_t k = 0; k < grid_.n[2]; ++k)
    for (index_t j = 0; j < grid_.n[1]; ++j) {
      std::memcpy(dense, data_.get() + offset(0, j, k), static_cast<std::size_t>(nx) * 8);
      dense += nx;
    }
}

void Field::copy_interior_from(const double* dense) {
  const index_t nx = grid_.n[0];
  for (index_t k = 0; k < grid_.n[2]; ++k)
    for (index_t j = 0; j < grid_.n[1]; ++j) {
      std::memcpy(data_.get() + offset(0, j, k), dense, static_cast<std::size_t>(nx) * 8);
      dense += nx;
    }
}

}  // namespace calor
