#include "calor/field.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "calor/error.hpp"

namespace calor {

void Field::Free::operator()(double* p) const {
  std::free(p);
}

const char* to_string(MemorySpace s) {
  return s == MemorySpace::device ? "device" : "host";
}

Field::Field(const Grid& grid, int halo, MemorySpace space)
    : grid_(grid), halo_(halo), space_(space) {
  if (space != MemorySpace::host)
    throw Error(std::string("this calor cannot allocate ") + to_string(space) +
                " memory: it was built without a GPU backend");
  for (int a = 0; a < 3; ++a) {
    ghost_[a] = a < grid.dim ? halo : 0;
    origin_[a] = ghost_[a];
    extent_[a] = grid.n[a] + 2 * ghost_[a];
  }
  // x: interior index 0 on a cache line (8 doubles), the row a whole number of cache lines.
  constexpr index_t line = 64 / sizeof(double);
  origin_[0] = (ghost_[0] + line - 1) / line * line;
  extent_[0] = (origin_[0] + grid.n[0] + ghost_[0] + line - 1) / line * line;
  sy_ = extent_[0];
  sz_ = sy_ * extent_[1];
  size_ = sz_ * extent_[2];
  // 64-byte alignment: a cache line, and a full AVX-512 vector. Fields of several MiB are
  // aligned to 2 MiB and asked for transparent huge pages (where the system gives them on request
  // only): a sweep then needs one TLB entry per 2 MiB instead of per 4 KiB, which counts where a
  // tiled backend jumps between many rows.
  constexpr std::size_t huge = std::size_t{2} << 20;
  const std::size_t need = static_cast<std::size_t>(size_) * sizeof(double);
  const std::size_t align = need >= 4 * huge ? huge : 64;
  const std::size_t bytes = (need + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (p == nullptr) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  if (align == huge) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: no failure to handle
#endif
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
