#include "calor/field.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"

namespace calor {

void Field::Free::operator()(double* p) const {
  if (space == MemorySpace::device)
    detail::device_free(p);
  else
    std::free(p);
}

const char* to_string(MemorySpace s) {
  return s == MemorySpace::device ? "device" : "host";
}

std::string memory_size(double bytes) {
  constexpr double gib = 1024.0 * 1024.0 * 1024.0, tib = 1024.0 * gib;
  char buf[64];
  if (bytes < tib)
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / gib);
  else
    std::snprintf(buf, sizeof buf, "%.3g TiB", bytes / tib);
  return buf;
}

std::string machine_memory() {
  const std::size_t m = physical_memory();
  return m > 0 ? memory_size(static_cast<double>(m)) : "an unknown amount of memory";
}

namespace {

// "4800 x 4800": the grid's active extents, x first.
std::string shape(const Grid& g) {
  std::string s;
  for (int a = 0; a < std::max(g.dim, 1); ++a)
    s += (a > 0 ? " x " : "") + std::to_string(g.n[a]);
  return s;
}

// v rounded up to a multiple of m > 0, or nothing where v is missing or the sum overflows.
std::optional<index_t> round_up(std::optional<index_t> v, index_t m) {
  const std::optional<index_t> s = v ? checked_add(*v, m - 1) : std::nullopt;
  return s ? std::optional<index_t>(*s / m * m) : std::nullopt;
}

// Zeroes `bytes` at p on `threads` threads, each a contiguous share of whole 2 MiB pages (the
// static split the threads backend gives its rows, roughly): the first touch of a fresh
// allocation, so each page is placed near, and cleared by, a thread that will sweep it. Whole
// huge pages, as one is placed whole by whichever thread touches it first.
void zero_on_threads(void* p, std::size_t bytes, int threads) {
  constexpr std::size_t page = std::size_t{2} << 20;
  const auto pages = static_cast<std::int64_t>((bytes + page - 1) / page);
  const std::int64_t nt = threads;
  // One share per thread, and no OpenMP call: built without OpenMP (the fuzz targets' readers),
  // the shares run one after another.
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (std::int64_t t = 0; t < nt; ++t) {
    const auto lo = static_cast<std::size_t>(pages * t / nt) * page;
    const std::size_t hi = std::min(bytes, static_cast<std::size_t>(pages * (t + 1) / nt) * page);
    if (hi > lo) std::memset(static_cast<char*>(p) + lo, 0, hi - lo);
  }
}

// A row length in cache lines that keeps the rows a sweep reads together apart in the L1 cache:
// one of 64 lines or more is padded (by at most 9 lines) until its remainder modulo 32 lines
// (2 KiB) lies in 5..27. Near a multiple of 32 lines, the 6 rows a four-row kernel reads and the
// 4 it writes (in a field laid out alike) crowd into a narrow band of the L1's 64 sets (all
// into one at 0 modulo 64; no hardware counters here to say more): on the AMD
// EPYC VM the case study's update, tiled on 4096^2 (514 lines, 2 modulo 32), ran 3075-3114
// MLUP/s, against 3990-4121 at 5-10 modulo 32, 3277-3464 at 32 modulo 64 and 1809-1827 at 0;
// 2048^2 and 8192^2 ran 1.3x as fast padded (docs/benchmarks.md).
std::optional<index_t> spread_rows(index_t lines) {
  if (lines < 64) return lines;
  index_t pad = 0;
  while ((lines + pad) % 32 < 5 || (lines + pad) % 32 > 27)
    ++pad;
  return checked_add(lines, pad);
}

}  // namespace

Field::Field(const Grid& grid, int halo, MemorySpace space, int threads)
    : grid_(grid), halo_(halo), space_(space) {
  if (halo < 0) throw Error("invalid halo width " + std::to_string(halo) + ": must be 0 or more");
  // Every size below is overflow-checked: a grid too large to index, or larger than this
  // machine's memory, is refused with its size before anything is allocated.
  bool fits = true;
  const auto take = [&fits](std::optional<index_t> v) {
    fits = fits && v.has_value();
    return v.value_or(0);
  };
  // The same sizes in floating point, for a message where the exact ones overflow.
  std::array<double, 3> approx{};
  for (int a = 0; a < 3; ++a) {
    ghost_[a] = a < grid.dim ? halo : 0;
    origin_[a] = ghost_[a];
    extent_[a] = take(checked_add(grid.n[a], take(checked_mul(2, ghost_[a]))));
    approx[a] = static_cast<double>(grid.n[a]) + 2.0 * static_cast<double>(ghost_[a]);
  }
  // x: interior index 0 on a cache line (8 doubles), the row a whole number of cache lines.
  constexpr index_t line = 64 / sizeof(double);
  origin_[0] = take(round_up(ghost_[0], line));
  extent_[0] = take(round_up(checked_add(origin_[0], extent_[0] - ghost_[0]), line));
  if (grid.dim >= 2) extent_[0] = take(checked_mul(take(spread_rows(extent_[0] / line)), line));
  approx[0] =
      std::ceil((static_cast<double>(origin_[0]) + approx[0] - static_cast<double>(ghost_[0])) /
                static_cast<double>(line)) *
      static_cast<double>(line);
  sy_ = extent_[0];
  sz_ = take(checked_mul(sy_, extent_[1]));
  size_ = take(checked_mul(sz_, extent_[2]));
  // 64-byte alignment: a cache line, and a full AVX-512 vector. Fields of several MiB are
  // aligned to 2 MiB and asked for transparent huge pages (where the system gives them on request
  // only): a sweep then needs one TLB entry per 2 MiB instead of per 4 KiB, which counts where a
  // tiled backend jumps between many rows.
  constexpr std::size_t huge = std::size_t{2} << 20;
  const index_t need_checked = take(checked_mul(size_, index_t{sizeof(double)}));
  const std::size_t need = static_cast<std::size_t>(need_checked);
  const std::size_t align = need >= 4 * huge ? huge : 64;
  const std::size_t bytes =
      static_cast<std::size_t>(take(round_up(need_checked, static_cast<index_t>(align))));
  const std::size_t memory = physical_memory();
  const auto refuse = [&](const std::string& what) {
    const double b =
        fits ? static_cast<double>(bytes) : approx[0] * approx[1] * approx[2] * sizeof(double);
    return Error(what + "a field of " + shape(grid) + " cells (halo " + std::to_string(halo) +
                 ") needs " + memory_size(b) + "; this machine has " + machine_memory() +
                 ": use a smaller grid or more MPI ranks");
  };
  if (!fits) throw refuse("");
  if (space == MemorySpace::device) {  // zeroed there; its own size check names the device
    data_ = std::unique_ptr<double[], Free>(static_cast<double*>(detail::device_allocate(bytes)),
                                            Free{space});
    return;
  }
  if (memory > 0 && bytes > memory) throw refuse("");
  void* p = std::aligned_alloc(align, bytes);
  if (p == nullptr) throw refuse("out of memory: ");
#if defined(MADV_HUGEPAGE)
  if (align == huge) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: no failure to handle
#endif
  if (threads > 1 && align == huge)
    zero_on_threads(p, bytes, threads);
  else
    std::memset(p, 0, bytes);
  data_.reset(static_cast<double*>(p));
}

namespace {

void require_host(const Field& f, const char* what) {
  if (f.space() != MemorySpace::host)
    throw Error(std::string(what) + " reads and writes host memory; this field is in " +
                to_string(f.space()) + " memory (copy it with copy_field first)");
}

}  // namespace

void copy_field(const Field& from, Field& to) {
  if (from.size() != to.size() || from.stride_y() != to.stride_y())
    throw Error("copy_field: the two fields differ in layout");
  const auto bytes = static_cast<std::size_t>(from.size()) * sizeof(double);
  if (from.space() == MemorySpace::host && to.space() == MemorySpace::host)
    std::memcpy(to.raw(), from.raw(), bytes);
  else
    detail::device_copy(to.raw(), to.space(), from.raw(), from.space(), bytes);
}

void Field::copy_interior_to(double* dense) const {
  require_host(*this, "Field::copy_interior_to");
  const index_t nx = grid_.n[0];
  for (index_t k = 0; k < grid_.n[2]; ++k)
    for (index_t j = 0; j < grid_.n[1]; ++j) {
      std::memcpy(dense, data_.get() + offset(0, j, k), static_cast<std::size_t>(nx) * 8);
      dense += nx;
    }
}

void Field::copy_interior_from(const double* dense) {
  require_host(*this, "Field::copy_interior_from");
  const index_t nx = grid_.n[0];
  for (index_t k = 0; k < grid_.n[2]; ++k)
    for (index_t j = 0; j < grid_.n[1]; ++j) {
      std::memcpy(data_.get() + offset(0, j, k), dense, static_cast<std::size_t>(nx) * 8);
      dense += nx;
    }
}

}  // namespace calor
