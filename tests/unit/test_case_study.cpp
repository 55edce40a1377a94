// The reference case study: heat bookkeeping, the preset's exact arithmetic, and bit-for-bit
// agreement with the project's own Fortran implementation.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "helpers.hpp"

namespace calor {
namespace {

Problem study(index_t n, std::int64_t steps, double energy = 1.0) {
  return test::problem("preset = \"stencil\"", {{"n", std::to_string(n), "test"},
                                                {"steps", std::to_string(steps), "test"},
                                                {"energy", std::to_string(energy), "test"}});
}

TEST(CaseStudy, PresetIsTheStudy) {
  const Problem p = study(4800, 500);
  EXPECT_EQ(p.grid.dim, 2);
  EXPECT_EQ(p.grid.n[0], 4800);
  EXPECT_EQ(p.steps, 500);
  EXPECT_EQ(p.form, StencilForm::factored);
  // r = alpha dt / h^2 = 1/8 per axis, and the factored coefficients are exactly 0.5 and 0.25.
  EXPECT_EQ(p.fourier_numbers()[0], 0.125);
  EXPECT_EQ(p.coefficients().c0, 0.5);
  EXPECT_EQ(p.coefficients().c1, 0.25);
  ASSERT_EQ(p.sources.points.size(), 3u);
  // N=4800: 1-based (2400, 2400), (1600, 1600), (3840, 4266).
  EXPECT_EQ(p.sources.points[2].at[0], 3840 - 1);
  EXPECT_EQ(p.sources.points[2].at[1], 4266 - 1);
  EXPECT_EQ(p.sources.points[1].at[0], 1600 - 1);
  for (int a = 0; a < 2; ++a)
    for (int s = 0; s < 2; ++s) {
      EXPECT_EQ(p.boundaries.face[a][s].kind, BoundaryKind::dirichlet);
      EXPECT_EQ(p.boundaries.face[a][s].value, 0.0);
    }
}

// While the heat has not reached the boundary, every unit injected is still on the grid.
class HeatIsInjectedEnergy : public ::testing::TestWithParam<std::tuple<int, int, double>> {};

TEST_P(HeatIsInjectedEnergy, AtSeveralSizes) {
  const auto [n, steps, energy] = GetParam();
  const Solver s = test::solve(study(n, steps, energy));
  const double expected = 3.0 * energy * steps;
  EXPECT_NEAR(s.stats().heat, expected, 1e-9 * expected);
  EXPECT_GT(s.stats().max, 0.0);
  EXPECT_GE(s.stats().min, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Sizes, HeatIsInjectedEnergy,
                         ::testing::Values(std::make_tuple(48, 5, 1.0),
                                           std::make_tuple(200, 20, 1.0),
                                           std::make_tuple(480, 50, 2.5),
                                           std::make_tuple(999, 100, 1.0)));

TEST(CaseStudy, EvaluatesTheStudyFormulaExactly) {
  // An independent transcription of the study's loop on a tiny grid.
  const int n = 9, steps = 7;
  std::vector<double> a((n + 2) * (n + 2), 0.0), b = a;
  auto at = [&](std::vector<double>& v, int i, int j) -> double& { return v[i + (n + 2) * j]; };
  const int sx[3] = {n / 2, n / 3, n * 4 / 5}, sy[3] = {n / 2, n / 3, n * 8 / 9};
  for (int t = 0; t < steps; ++t) {
    for (int j = 1; j <= n; ++j)
      for (int i = 1; i <= n; ++i)
        at(b, i, j) = 0.5 * (at(a, i, j) + 0.25 * (at(a, i - 1, j) + at(a, i + 1, j) +
                                                   at(a, i, j - 1) + at(a, i, j + 1)));
    for (int k = 0; k < 3; ++k)
      at(b, sx[k], sy[k]) += 1.0;
    std::swap(a, b);
  }
  std::vector<double> expect;
  for (int j = 1; j <= n; ++j)
    for (int i = 1; i <= n; ++i)
      expect.push_back(at(a, i, j));
  const Solver s = test::solve(study(n, steps));
  EXPECT_TRUE(test::same_bits(test::interior(s.field()), expect));
}

#ifdef CALOR_FORTRAN_STENCIL
TEST(CaseStudy, MatchesFortranBitForBit) {
  const int n = 480, steps = 50;
  const auto out = std::filesystem::temp_directory_path() / "calor_fortran_stencil_480.raw";
  const std::string cmd = std::string(CALOR_FORTRAN_STENCIL) + " " + std::to_string(n) + " " +
                          std::to_string(steps) + " 1.0 " + out.string() + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<double> fortran(static_cast<std::size_t>(n) * n);
  std::ifstream in(out, std::ios::binary);
  ASSERT_TRUE(in.read(reinterpret_cast<char*>(fortran.data()),
                      static_cast<std::streamsize>(fortran.size() * sizeof(double))));
  std::filesystem::remove(out);
  const Solver s = test::solve(study(n, steps));
  EXPECT_TRUE(test::same_bits(test::interior(s.field()), fortran));
}
#endif

TEST(Diffusion1d, MatchesTheTeachingLoop) {
  // The classic: udt[i] = fac*u[i] + kappa*(u[i+1] + u[i-1]), fac = 1 - 2 kappa, ends fixed.
  Problem p = test::problem("preset = \"diffusion1d\"", {{"n", "1000", "t"}, {"steps", "25", "t"}});
  EXPECT_EQ(p.fourier_numbers()[0], 0.1);
  Solver s(p, make_backend("serial"));
  std::vector<double> u = test::interior(s.field()), v = u;
  u.insert(u.begin(), 0.0);
  u.push_back(0.0);
  v = u;
  const double kappa = 0.1, fac = 1.0 - 2.0 * kappa;
  for (int t = 0; t < 25; ++t) {
    for (std::size_t i = 1; i + 1 < u.size(); ++i)
      v[i] = fac * u[i] + kappa * (u[i + 1] + u[i - 1]);
    std::swap(u, v);
  }
  s.step(25);
  EXPECT_TRUE(
      test::same_bits(test::interior(s.field()), std::vector<double>(u.begin() + 1, u.end() - 1)));
}

}  // namespace
}  // namespace calor
