#include <gtest/gtest.h>

#include <cstdint>

#include "calor/field.hpp"

namespace calor {
namespace {

TEST(Field, LayoutHasHaloOnActiveAxesOnly) {
  Grid g;
  g.dim = 2;
  g.n = {5, 3, 1};
  Field f(g);
  EXPECT_EQ(f.stride_y(), 7);
  EXPECT_EQ(f.stride_z(), 7 * 5);
  EXPECT_EQ(f.size(), 35);
  EXPECT_EQ(f.halo(0), 1);
  EXPECT_EQ(f.halo(2), 0);
  EXPECT_EQ(f.offset(-1, -1), 0);
  EXPECT_EQ(f.offset(0, 0), 8);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.raw()) % 64, 0u);
  for (index_t i = 0; i < f.size(); ++i)
    EXPECT_EQ(f.raw()[i], 0.0);
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
