// The spectral solver: its discrete mode against the stencil backends (the same scheme, solved
// exactly), its continuous mode against the exact Gaussian, the stencil's convergence to it, the
// case study, and the clear refusals.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "calor/analytic.hpp"
#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

#if defined(CALOR_HAVE_FFTW)

struct Difference {
  double rel_l2 = 0;   ///< ||a - b|| / ||b||
  double rel_max = 0;  ///< max |a - b| / max |b|
};

Difference difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d2 = 0, b2 = 0, dmax = 0, bmax = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double d = a[i] - b[i];
    d2 += d * d;
    b2 += b[i] * b[i];
    dmax = std::max(dmax, std::fabs(d));
    bmax = std::max(bmax, std::fabs(b[i]));
  }
  return {std::sqrt(d2 / b2), dmax / bmax};
}

// Steps the stencil solver `s` and the spectral solver to each count in `counts`, comparing.
void expect_discrete_matches(Solver& s, SpectralSolver& sp, const std::vector<std::int64_t>& counts,
                             double tol, const std::string& what) {
  for (std::int64_t n : counts) {
    s.step(n - s.step_count());
    sp.advance_to(n);
    const Difference d = difference(sp.field(), test::interior(s.field()));
    std::printf("%-34s steps %5lld: relative L2 %.2e, relative max %.2e\n", what.c_str(),
                static_cast<long long>(n), d.rel_l2, d.rel_max);
    EXPECT_LT(d.rel_l2, tol) << what << " after " << n << " steps";
    EXPECT_LT(d.rel_max, 10 * tol) << what << " after " << n << " steps";
  }
}

TEST(SpectralDiscrete, MatchesTheStencilOnGaussianPresets) {
  for (const auto& [preset, counts] :
       std::vector<std::pair<std::string, std::vector<std::int64_t>>>{
           {"gaussian2d", {1, 17, 200, 1000}}, {"gaussian3d", {1, 50, 200}}}) {
    const Problem p = test::problem("preset = \"" + preset + "\"\n");
    Solver s(p, make_backend("serial"));
    SpectralSolver sp(p, SpectralMode::discrete, 1);
    expect_discrete_matches(s, sp, counts, 1e-12, preset);
  }
}

// Random fields excite every mode equally, the hardest test of the amplification factor. Each
// case has its own boundary mix, spacing and sources.
TEST(SpectralDiscrete, MatchesTheStencilOnRandomFields) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1D periodic", "dim = 1\nn = 101\nh = 0.7\nalpha = 0.3\nboundary.all = \"periodic\"\n"},
      {"1D Dirichlet 0 + sources",
       "dim = 1\nn = 64\n[sources]\nvolumetric = 0.2\npoints = [{ at = [5], energy = 2.0 }]\n"},
      {"2D periodic, odd, anisotropic",
       "dim = 2\nn = [37, 24]\nh = [0.9, 1.1]\nboundary.all = \"periodic\"\n"
       "[sources]\nvolumetric = -0.1\npoints = [{ at = [36, 0], energy = 1.5 }]\n"},
      {"2D periodic, factored",
       "dim = 2\nn = [32, 45]\nform = \"factored\"\n"
       "boundary.all = \"periodic\"\n"},
      {"2D Dirichlet 0 + sources",
       "dim = 2\nn = [31, 20]\nh = [1.0, 0.8]\n[sources]\nvolumetric = 0.3\n"
       "points = [{ at = [0, 0], energy = 1.5 }, { at = [0, 0], energy = 0.5 },"
       " { at = [17, 11], energy = -2.0 }]\n"},
      {"2D mixed: x Dirichlet, y periodic",
       "dim = 2\nn = [23, 18]\n[boundary]\nx = \"dirichlet\"\ny = \"periodic\"\n"
       "[sources]\npoints = [{ at = [3, 17], energy = 1.0 }]\n"},
      {"3D periodic",
       "dim = 3\nn = [12, 9, 10]\nh = [1.0, 1.2, 0.9]\nboundary.all = \"periodic\"\n"},
      {"3D mixed + sources",
       "dim = 3\nn = [11, 8, 13]\n[boundary]\nx = \"periodic\"\ny = \"dirichlet\"\n"
       "z = \"periodic\"\n[sources]\nvolumetric = 0.05\n"
       "points = [{ at = [10, 7, 12], energy = 3.0 }]\n"},
      {"3D Dirichlet 0", "dim = 3\nn = [9, 10, 7]\nform = \"factored\"\n"},
  };
  unsigned seed = 1;
  for (const auto& [name, toml] : cases) {
    SCOPED_TRACE(name + ":\n" + toml);
    const Problem p = test::problem(toml);
    const auto u0 = test::random_field(p.grid, seed++);
    Solver s(p, make_backend("serial"));
    s.field().copy_interior_from(u0.data());
    SpectralSolver sp(p, SpectralMode::discrete, 1);
    sp.set_initial(u0);
    expect_discrete_matches(s, sp, {0, 1, 2, 7, 64, 500}, 1e-12, name);
  }
}

// "Any step count": tens of thousands of steps, with sources and a decaying initial state.
TEST(SpectralDiscrete, MatchesTheStencilAfterManySteps) {
  for (const std::string toml :
       {"dim = 1\nn = 40\nboundary.all = \"periodic\"\n",
        "dim = 2\nn = [14, 11]\n[sources]\npoints = [{ at = [3, 4], energy = 1.0 }]\n",
        "dim = 2\nn = [12, 9]\ndt = 0.2\nboundary.all = \"periodic\"\n"}) {
    const Problem p = test::problem(toml);
    const auto u0 = test::random_field(p.grid, 5);
    Solver s(p, make_backend("serial"));
    s.field().copy_interior_from(u0.data());
    SpectralSolver sp(p, SpectralMode::discrete, 1);
    sp.set_initial(u0);
    std::string what = toml.substr(0, toml.find('\n', 9));
    std::replace(what.begin(), what.end(), '\n', ' ');
    expect_discrete_matches(s, sp, {1000, 4095, 20000}, 1e-12, what);
  }
}

// Up to SpectralSolver::kAnalyticSources point sources are transformed in closed form, more by a
// forward FFT of the source field: both against the stencil, in every transform kind.
TEST(SpectralDiscrete, ManyPointSourcesMatchTheStencil) {
  for (const std::string bc :
       {"all = \"periodic\"", "all = \"dirichlet\"", "x = \"periodic\"\ny = \"dirichlet\""}) {
    for (const std::size_t count : {std::size_t{5}, SpectralSolver::kAnalyticSources + 8}) {
      std::mt19937_64 rng(count);
      std::string points = "points = [";
      for (std::size_t i = 0; i < count; ++i)
        points += "{ at = [" + std::to_string(rng() % 29) + ", " + std::to_string(rng() % 17) +
                  "], energy = " + std::to_string(0.25 + static_cast<double>(i % 5)) + " },";
      points.back() = ']';
      const std::string toml = "dim = 2\nn = [29, 17]\n[boundary]\n" + bc +
                               "\n[sources]\nvolumetric = 0.125\n" + points + "\n";
      const Problem p = test::problem(toml);
      Solver s(p, make_backend("serial"));
      SpectralSolver sp(p, SpectralMode::discrete, 1);
      std::string what = std::to_string(count) + " sources, " + bc;
      std::replace(what.begin(), what.end(), '\n', ' ');
      expect_discrete_matches(s, sp, {1, 30, 400}, 1e-12, what);
    }
  }
}

// Initial states the solver builds itself: a constant (transformed in closed form) and a
// Gaussian (through a forward transform), with and without sources.
TEST(SpectralDiscrete, ProblemInitialStatesMatchTheStencil) {
  for (const std::string toml :
       {"dim = 2\nn = [30, 22]\ninitial = { type = \"constant\", value = 0.7 }\n"
        "[sources]\nvolumetric = 0.2\n",
        "dim = 3\nn = [10, 12, 9]\n[boundary]\nx = \"periodic\"\ny = \"dirichlet\"\n"
        "z = \"periodic\"\n[initial]\ntype = \"constant\"\nvalue = -1.5\n",
        "dim = 2\nn = [40, 33]\nform = \"factored\"\n"
        "initial = { type = \"gaussian\", centre = [12.0, 20.0], width = 4.0, amplitude = 3.0 }\n"
        "[sources]\npoints = [{ at = [30, 5], energy = 0.5 }]\n"}) {
    const Problem p = test::problem(toml);
    Solver s(p, make_backend("serial"));
    SpectralSolver sp(p, SpectralMode::discrete, 1);
    std::string what = toml.substr(0, toml.find('\n', 9));
    std::replace(what.begin(), what.end(), '\n', ' ');
    expect_discrete_matches(s, sp, {0, 1, 25, 300}, 1e-12, what);
  }
}

// The API in one place: advance_to in any order, re-initialisation, threads, describe().
TEST(SpectralDiscrete, AdvanceToIsIndependentOfHistoryAndThreads) {
  const Problem p = test::problem(
      "dim = 2\nn = [40, 30]\n[sources]\npoints = [{ at = [20, 10], energy = 1.0 }]\n");
  SpectralSolver a(p, SpectralMode::discrete, 1);
  SpectralSolver b(p, SpectralMode::discrete, 2);
  a.advance_to(300);
  b.advance_to(7);
  b.advance_to(300);
  EXPECT_EQ(a.step_count(), 300);
  EXPECT_DOUBLE_EQ(a.time(), 300 * p.dt);
  EXPECT_LT(difference(b.field(), a.field()).rel_max, 1e-14);
  a.advance_to(0);  // back to the initial state: zero
  for (double v : a.field())
    EXPECT_LT(std::fabs(v), 1e-15);
  EXPECT_NE(b.describe().find("RODFT00 x RODFT00"), std::string::npos) << b.describe();
  EXPECT_NE(b.describe().find("2 threads"), std::string::npos) << b.describe();
  EXPECT_THROW(a.advance_to(-1), Error);
  EXPECT_THROW(a.set_initial(std::vector<double>(5)), Error);
}

TEST(SpectralContinuous, MatchesTheExactGaussian) {
  for (const std::string preset : {"gaussian2d", "gaussian3d"}) {
    const Problem p = test::problem("preset = \"" + preset + "\"\n");
    SpectralSolver sp(p, SpectralMode::continuous, 2);
    for (std::int64_t steps : {0, 50, 200, 2000}) {
      sp.advance_to(steps);
      const double err = *analytic_error(p, sp.field(), sp.time());
      double worst = 0;
      for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) {
        const auto at = static_cast<std::size_t>(i + p.grid.n[0] * (j + p.grid.n[1] * k));
        worst =
            std::max(worst, std::fabs(sp.field()[at] - gaussian_solution(p, sp.time(), i, j, k)));
      });
      std::printf("%s continuous, t = %.6g: rms error %.2e, max error %.2e\n", preset.c_str(),
                  sp.time(), err, worst);
      EXPECT_LT(worst, 1e-10) << preset << " at t = " << sp.time();
    }
  }
}

// With a volumetric rate q on a periodic domain the heat grows as q t per cell, exactly.
TEST(SpectralContinuous, VolumetricSourceAddsHeatAtItsRate) {
  const Problem p = test::problem("preset = \"gaussian2d\"\nn = 48\n[sources]\nvolumetric = 2.5\n");
  SpectralSolver sp(p, SpectralMode::continuous, 1);
  const double heat0 = sp.stats().heat;
  sp.advance_to(100);
  const double expected = heat0 + 2.5 * sp.time() * static_cast<double>(p.grid.cells());
  EXPECT_NEAR(sp.stats().heat, expected, 1e-12 * expected);
}

// The stencil converges to the continuous solution at second order in h (dt ~ h^2 at fixed r):
// here on a Dirichlet-0 square, where analytic.hpp has no exact solution but the sine series does.
TEST(SpectralContinuous, StencilConvergesAtSecondOrder) {
  std::vector<double> errors;
  const std::vector<int> sizes = {31, 63, 127, 255};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const int n = sizes[i];
    const int steps = 4 << (2 * i);  // dt ~ h^2: four times the steps per halving of h
    char h[32];
    std::snprintf(h, sizeof h, "%.17g", 1.0 / (n + 1));
    const Problem p = test::problem(
        "dim = 2\nn = " + std::to_string(n) + "\nh = " + h + "\nsteps = " + std::to_string(steps) +
        "\n[initial]\ntype = \"gaussian\"\ncentre = [0.5, 0.5]\nwidth = 0.05\n");
    const Solver s = test::solve(p);
    SpectralSolver sp(p, SpectralMode::continuous, 1);
    sp.solve();
    const auto u = test::interior(s.field());
    double sq = 0;
    for (std::size_t c = 0; c < u.size(); ++c)
      sq += (u[c] - sp.field()[c]) * (u[c] - sp.field()[c]);
    errors.push_back(std::sqrt(sq / static_cast<double>(u.size())));
    std::printf("Dirichlet 2D n=%d steps=%d t=%.6g: stencil - continuous spectral rms %.4e\n", n,
                steps, s.time(), errors.back());
  }
  for (std::size_t i = 1; i < errors.size(); ++i)
    std::printf("  observed order %d -> %d: %.3f\n", sizes[i - 1], sizes[i],
                std::log2(errors[i - 1] / errors[i]));
  const double order = std::log2(errors[errors.size() - 2] / errors.back());
  std::printf("observed order of convergence of the stencil to the continuous solution: %.3f\n",
              order);
  EXPECT_NEAR(order, 2.0, 0.1);
}

// The case study: 2D Dirichlet 0, three point sources, factored form, 500 steps, in one transform
// pair.
void expect_case_study(index_t n, const std::string& backend) {
  const Problem p = test::problem("preset = \"stencil\"\nn = " + std::to_string(n) + "\n");
  auto t0 = std::chrono::steady_clock::now();
  Solver s(p, make_backend(backend));
  s.step(p.steps);
  const double stencil_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  SpectralSolver sp(p, SpectralMode::discrete);
  sp.solve();
  const double spectral_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Difference d = difference(sp.field(), test::interior(s.field()));
  const Stats a = sp.stats(), b = s.stats();
  std::printf(
      "case study %lld^2 x %lld steps: relative L2 %.2e, relative max %.2e; heat %.10f (stencil "
      "%.10f); stencil (%s) %.3f s, spectral %.3f s (%s, planning %.3f s)\n",
      static_cast<long long>(n), static_cast<long long>(p.steps), d.rel_l2, d.rel_max, a.heat,
      b.heat, backend.c_str(), stencil_s, spectral_s, sp.describe().c_str(), sp.planning_seconds());
  EXPECT_LT(d.rel_l2, 1e-11);
  EXPECT_LT(d.rel_max, 1e-11);
  EXPECT_NEAR(a.heat, b.heat, 1e-11 * b.heat);
  EXPECT_NEAR(a.heat, 1500.0, 1e-4);  // 3 energy x 500 steps, less what reached the boundary
  EXPECT_NEAR(a.max, b.max, 1e-11 * b.max);
}

TEST(SpectralCaseStudy, MatchesTheStencilAt480) {
  expect_case_study(480, "serial");
}

TEST(SpectralCaseStudy, MatchesTheStencilAt960) {
  expect_case_study(960, "simd");
}

// The full 4800^2 x 500 study: a few seconds each way in an optimised build, minutes under the
// sanitizers, which the smaller sizes above already cover.
TEST(SpectralCaseStudy, MatchesTheStencilAtFullSize) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the full-size study runs in the optimised build";
#else
  expect_case_study(4800, "tiled");
#endif
}

// ---- refusals ------------------------------------------------------------------------------

void expect_refusal(const std::string& toml, SpectralMode mode,
                    const std::vector<std::string>& words) {
  const Problem p = test::problem(toml);
  try {
    SpectralSolver sp(p, mode, 1);
    ADD_FAILURE() << "no error for\n" << toml;
  } catch (const Error& e) {
    const std::string m = e.what();
    std::printf("refused: %s\n", m.c_str());
    for (const std::string& w : words)
      EXPECT_NE(m.find(w), std::string::npos) << "'" << w << "' missing from: " << m;
  }
}

TEST(SpectralRefuses, NeumannFaces) {
  expect_refusal("dim = 2\nn = 16\nboundary.all = \"neumann\"\n", SpectralMode::discrete,
                 {"boundary.x_low", "neumann", "stencil"});
}

TEST(SpectralRefuses, MixedKindsOnOneAxis) {
  expect_refusal("dim = 2\nn = 16\n[boundary]\ny_low = \"dirichlet\"\ny_high = \"neumann\"\n",
                 SpectralMode::discrete, {"boundary.y_high", "neumann", "stencil"});
  // periodic on one face only is already refused by the problem itself
  EXPECT_THROW(test::problem("dim = 2\nn = 16\n[boundary]\nx_low = \"periodic\"\n"), Error);
}

TEST(SpectralRefuses, NonZeroDirichlet) {
  expect_refusal("dim = 3\nn = 8\n[boundary]\nz_high = { type = \"dirichlet\", value = 1.5 }\n",
                 SpectralMode::discrete,
                 {"boundary.z_high", "dirichlet(1.5)", "Dirichlet value of 0", "stencil"});
}

TEST(SpectralRefuses, PointSourcesInContinuousMode) {
  expect_refusal("dim = 2\nn = 16\n[sources]\npoints = [{ at = [1, 1], energy = 1.0 }]\n",
                 SpectralMode::continuous, {"point sources", "discrete", "stencil"});
  EXPECT_THROW(spectral_mode_from_string("exact"), Error);
  EXPECT_EQ(spectral_mode_from_string("continuous"), SpectralMode::continuous);
}

// ---- plans and wisdom -------------------------------------------------------------------------

TEST(SpectralWisdom, ExportImportAndMeasuredPlans) {
  const std::string path = ::testing::TempDir() + "calor_spectral_wisdom.txt";
  const Problem p = test::problem("dim = 3\nn = [24, 20, 18]\nboundary.all = \"periodic\"\n");
  const auto u0 = test::random_field(p.grid, 7);
  SpectralSolver est(p, SpectralOptions{SpectralMode::discrete, 1, FftPlanning::estimate});
  SpectralSolver mea(p, SpectralOptions{SpectralMode::discrete, 1, FftPlanning::measure});
  est.set_initial(u0);
  mea.set_initial(u0);
  est.advance_to(40);
  mea.advance_to(40);
  EXPECT_LT(difference(mea.field(), est.field()).rel_max, 1e-13);
  export_fft_wisdom(path);
  EXPECT_TRUE(import_fft_wisdom(path));
  // With the wisdom in memory the same measured plans come at no cost.
  SpectralSolver again(p, SpectralOptions{SpectralMode::discrete, 1, FftPlanning::measure});
  std::printf("measure planning: %.4f s first, %.4f s with wisdom\n", mea.planning_seconds(),
              again.planning_seconds());
  EXPECT_LT(again.planning_seconds(), 0.05 + 0.5 * mea.planning_seconds());
  EXPECT_FALSE(import_fft_wisdom(path + ".missing"));
  const std::string junk = path + ".junk";
  std::ofstream(junk) << "not wisdom\n";
  EXPECT_THROW(import_fft_wisdom(junk), Error);
  EXPECT_THROW(export_fft_wisdom("/nonexistent-dir/wisdom"), Error);
}

#else

TEST(Spectral, NeedsFftw) {
  EXPECT_FALSE(spectral_available());
  const Problem p = test::problem("dim = 2\nn = 8\n");
  EXPECT_THROW(SpectralSolver(p, SpectralMode::discrete), Error);
  GTEST_SKIP() << "calor was built without FFTW";
}

#endif

}  // namespace
}  // namespace calor
