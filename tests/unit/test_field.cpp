#include <gtest/gtest.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "calor/backend.hpp"
#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/machine.hpp"
#include "calor/problem.hpp"

namespace calor {
namespace {

TEST(Field, LayoutHasHaloOnActiveAxesOnly) {
  Grid g;
  g.dim = 2;
  g.n = {5, 3, 1};
  Field f(g);
  // x: 7 cells of padding, the halo cell, 5 interior cells, the halo cell, 2 of padding.
  EXPECT_EQ(f.origin(0), 8);
  EXPECT_EQ(f.extent(0), 16);
  EXPECT_EQ(f.stride_y(), 16);
  EXPECT_EQ(f.extent(1), 5);
  EXPECT_EQ(f.stride_z(), 16 * 5);
  EXPECT_EQ(f.size(), 80);
  EXPECT_EQ(f.halo(0), 1);
  EXPECT_EQ(f.halo(2), 0);
  EXPECT_EQ(f.extent(2), 1);
  EXPECT_EQ(f.offset(-1, -1), 7);
  EXPECT_EQ(f.offset(0, 0), 24);
  EXPECT_EQ(f.offset(5, 3), 8 + 5 + 16 * 4);  // the last halo cell
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.raw()) % 64, 0u);
  for (index_t i = 0; i < f.size(); ++i)
    EXPECT_EQ(f.raw()[i], 0.0);
}

// Rows of 64 cache lines or more are padded off multiples of 32 lines (Field's spread_rows):
// 2048^2, 4096^2 and 8192^2 ran 1.3x as fast so. Shorter rows keep their whole-line length.
TEST(Field, LongRowsStayOffMultiplesOf32Lines) {
  for (int halo : {1, 2, 35})
    for (index_t nx : {496, 500, 2032, 2048, 4080, 4096, 4800, 8192}) {
      Grid g;
      g.dim = 2;
      g.n = {nx, 2, 1};
      const Field f(g, halo);
      const index_t lines = f.stride_y() / 8, least = (f.origin(0) + nx + halo + 7) / 8;
      EXPECT_EQ(f.stride_y() % 8, 0);
      EXPECT_GE(lines % 32, 5) << nx << " halo " << halo;
      EXPECT_LE(lines % 32, 27) << nx << " halo " << halo;
      EXPECT_GE(lines, least);
      EXPECT_LE(lines, least + 9);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.raw() + f.offset(0, 1)) % 64, 0u);
    }
  Grid g;
  g.dim = 2;
  g.n = {240, 2, 1};  // 32 lines with its halo and padding: short, kept as is
  EXPECT_EQ(Field(g).stride_y(), 256);
}

TEST(Field, EveryRowStartsOnACacheLine) {
  for (int halo : {1, 2, 3, 9})
    for (index_t nx : {1, 2, 7, 8, 9, 33}) {
      Grid g;
      g.dim = 3;
      g.n = {nx, 3, 2};
      Field f(g, halo);
      EXPECT_GE(f.origin(0), halo);
      EXPECT_GE(f.extent(0), f.origin(0) + nx + halo);
      for (index_t k = -halo; k < 2 + halo; ++k)
        for (index_t j = -halo; j < 3 + halo; ++j)
          EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.raw() + f.offset(0, j, k)) % 64, 0u)
              << "halo " << halo << " nx " << nx << " j " << j << " k " << k;
      EXPECT_EQ(f.offset(-halo, -halo, -halo) >= 0, true);
      EXPECT_LT(f.offset(nx + halo - 1, 2 + halo, 1 + halo), f.size());
    }
}

// Makes glibc serve blocks up to 32 MiB from its heap and keep freed ones, so that a new field
// can get memory an earlier one dirtied (fresh pages of the system are zero anyway). glibc's
// default thresholds are fixed again when it ends: it no longer adjusts them by itself in this
// process. Under ASan, whose allocator ignores this, freed memory is not handed back at once.
struct HeapReuse {
  HeapReuse() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  }
  ~HeapReuse() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
    mallopt(M_TRIM_THRESHOLD, 128 << 10);
#endif
  }
  HeapReuse(const HeapReuse&) = delete;
  HeapReuse& operator=(const HeapReuse&) = delete;
};

// A field of several MiB zeroed on threads (its first touch) is zero everywhere, halo and padding
// included, for any thread count, also where the allocator hands back memory a previous field
// dirtied (a share short by a page, of any thread but the last, fails it in a glibc build).
TEST(Field, ZeroedOnThreadsEverywhere) {
  Grid g;
  g.dim = 2;
  g.n = {1003, 1401, 1};  // 11.5 MB with halo and padding, past the 8 MiB where threads zero
  const HeapReuse reuse;
  for (const int threads : {1, 2, 3, 7}) {
    {
      Field dirty(g, 2);
      std::fill(dirty.raw(), dirty.raw() + dirty.size(), 1.0);
    }
    const Field f(g, 2, MemorySpace::host, threads);
    const double* p = f.raw();
    EXPECT_EQ(std::count(p, p + f.size(), 0.0), f.size()) << threads << " threads";
  }
}

TEST(Field, DenseCopyRoundTrips) {
  Grid g;
  g.dim = 3;
  g.n = {4, 3, 2};
  Field f(g);
  std::vector<double> in(24), out(24);
  for (int i = 0; i < 24; ++i)
    in[i] = i + 0.5;
  f.copy_interior_from(in.data());
  EXPECT_EQ(f(1, 0, 0), 1.5);  // x fastest
  EXPECT_EQ(f(0, 1, 0), 4.5);
  EXPECT_EQ(f(0, 0, 1), 12.5);
  EXPECT_EQ(f(-1, 0, 0), 0.0);  // halo untouched
  f.copy_interior_to(out.data());
  EXPECT_EQ(in, out);
}

}  // namespace
}  // namespace calor

namespace calor {
namespace {

TEST(Field, MemorySpaces) {
  Grid g;
  g.n = {8, 8, 1};
  EXPECT_EQ(Field(g).space(), MemorySpace::host);
  // Without a device (or a CUDA build) a device field is refused with the reason, not faked.
  std::string why;
  if (cuda_devices(&why).empty()) {
    try {
      Field d(g, 1, MemorySpace::device);
      ADD_FAILURE() << "a device field was allocated without a device";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot allocate device memory: " + why),
                std::string::npos)
          << e.what();
    }
  }
  for (const std::string& name : backend_names())
    EXPECT_EQ(backend_memory_space(name), name == "cuda" ? MemorySpace::device : MemorySpace::host)
        << name;
}

// The message of the calor::Error `f` throws, or "" (a failure) where it throws nothing.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no calor::Error";
  return "";
}

TEST(Field, CheckedSizes) {
  constexpr index_t max = std::numeric_limits<index_t>::max();
  EXPECT_EQ(checked_mul(4800, 4800), 4800 * 4800);
  EXPECT_EQ(checked_mul(0, max), 0);
  EXPECT_FALSE(checked_mul(4294967296, 4294967296));
  EXPECT_FALSE(checked_mul(-1, 2));
  EXPECT_EQ(checked_add(max - 1, 1), max);
  EXPECT_FALSE(checked_add(max, 1));
  Grid g;
  g.n = {4294967280, 4294967294, 1};
  EXPECT_FALSE(g.checked_cells());
  g.n = {4800, 4800, 1};
  EXPECT_EQ(g.checked_cells(), g.cells());
  EXPECT_GT(physical_memory(), 0u);
}

// A grid whose cell count overflows int64 (4294967280 x 4294967294 wrapped to a tiny
// allocation, then the run wrote past it) is refused by Problem::validate and by Field, before
// allocating, with the size it needs and the memory this machine has.
// True when `m` starts with `head` and ends with `tail` (std::regex trips GCC 12's
// maybe-uninitialized warning under the sanitizers).
bool starts_ends(const std::string& m, const std::string& head, const std::string& tail) {
  return m.size() >= head.size() + tail.size() && m.compare(0, head.size(), head) == 0 &&
         m.compare(m.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(Field, AGridTooLargeToIndexIsRefusedWithItsSize) {
  Problem p;
  p.grid.dim = 2;
  p.grid.n = {4294967280, 4294967294, 1};
  p.dt = 0.1;
  const std::string m = error_of([&] { p.validate(); });
  EXPECT_TRUE(starts_ends(m,
                          "the grid 4294967280 x 4294967294 needs 2.68e+08 TiB for its two "
                          "fields; this machine has ",
                          "iB: use a smaller grid or more MPI ranks"))
      << m;
  const std::string f = error_of([&] { Field big(p.grid); });
  EXPECT_TRUE(starts_ends(f,
                          "a field of 4294967280 x 4294967294 cells (halo 1) needs 1.34e+08 TiB; "
                          "this machine has ",
                          "iB: use a smaller grid or more MPI ranks"))
      << f;
  // 3D too: each axis fits, the product does not.
  p.grid.dim = 3;
  p.grid.n = {3000000, 3000000, 3000000};
  EXPECT_NE(error_of([&] { p.validate(); }).find("needs 3.93e+08 TiB for its two fields"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Field big(p.grid, 2); }).find("(halo 2) needs"), std::string::npos);
}

// A block that fits in int64 but not in this machine's memory (128 TiB, more than x86-64 can
// even map) is refused by Field with a calor::Error, not a std::bad_alloc or a wild write.
TEST(Field, AFieldLargerThanThisMachineIsRefusedWithItsSize) {
  Grid g;
  g.dim = 2;
  g.n = {index_t{1} << 22, index_t{1} << 22, 1};
  if (physical_memory() > (std::size_t{1} << 47)) GTEST_SKIP() << "a machine of over 128 TiB";
  const std::string m = error_of([&] { Field big(g); });
  EXPECT_TRUE(starts_ends(m,
                          "a field of 4194304 x 4194304 cells (halo 1) needs 128 TiB; this "
                          "machine has ",
                          " GiB: use a smaller grid or more MPI ranks"))
      << m;
  // The whole problem is within reach of an MPI job (2 x 128 TiB), so validate accepts it.
  Problem p;
  p.grid = g;
  p.dt = 0.1;
  EXPECT_NO_THROW(p.validate());
  // The case study's grid still allocates as before.
  g.n = {4800, 4800, 1};
  const Field f(g);
  EXPECT_EQ(f.size(), 4816 * 4802);
}

}  // namespace
}  // namespace calor
