#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/field.hpp"

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
  // No GPU backend in this build: a device field is refused with the reason, not faked.
  try {
    Field d(g, 1, MemorySpace::device);
    ADD_FAILURE() << "a device field was allocated without a GPU backend";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate device memory"), std::string::npos)
        << e.what();
  }
  for (const std::string& name : backend_names())
    EXPECT_EQ(backend_memory_space(name), MemorySpace::host) << name;
}

}  // namespace
}  // namespace calor
