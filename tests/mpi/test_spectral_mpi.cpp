// The spectral solver over MPI ranks (FFTW-MPI slabs) equals the single-process one within 1e-13
// at every rank count. Run under mpiexec -n P (CTest does so for P = 2 and 3).

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "../unit/helpers.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/run.hpp"
#include "calor/spectral.hpp"

namespace calor {
namespace {

const Comm& world() {
  static const Comm c = Comm::from_handle(MPI_Comm_c2f(MPI_COMM_WORLD));
  return c;
}

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

#if defined(CALOR_HAVE_FFTW_MPI)

int world_size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// The same pseudo-random global field on every rank.
std::vector<double> random_field(const Grid& g, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(g.cells()));
  for (double& x : v)
    x = u(rng);
  return v;
}

// Relative L2 and max difference on rank 0, broadcast so that every rank agrees on the verdict.
std::array<double, 2> difference_everywhere(const std::vector<double>& a,
                                            const std::vector<double>& b) {
  std::array<double, 2> d{0, 0};
  if (world_rank() == 0) {
    if (a.size() != b.size()) {
      d = {1e300, 1e300};
    } else {
      double d2 = 0, b2 = 0, dm = 0, bm = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        d2 += (a[i] - b[i]) * (a[i] - b[i]);
        b2 += b[i] * b[i];
        dm = std::max(dm, std::fabs(a[i] - b[i]));
        bm = std::max(bm, std::fabs(b[i]));
      }
      d = bm == 0 ? std::array<double, 2>{dm, dm}
                  : std::array<double, 2>{std::sqrt(d2 / b2), dm / bm};
    }
  }
  MPI_Bcast(d.data(), 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  return d;
}

// More point sources than the solver transforms in closed form: they go through a forward FFT.
std::string many_sources(int count) {
  std::string t = "dim = 2\nn = [26, 19]\nboundary.all = \"periodic\"\n[sources]\npoints = [";
  for (int i = 0; i < count; ++i)
    t += "{ at = [" + std::to_string((7 * i) % 26) + ", " + std::to_string((5 * i) % 19) +
         "], energy = " + std::to_string(1 + i % 3) + " },";
  t.back() = ']';
  return t + "\n";
}

struct Case {
  std::string name, toml;
  SpectralMode mode = SpectralMode::discrete;
  bool random = true;
};

TEST(SpectralMpi, EqualsTheSerialSolver) {
  const std::vector<Case> cases = {
      {"2D periodic (r2c)",
       "dim = 2\nn = [37, 24]\nh = [0.9, 1.1]\nboundary.all = \"periodic\"\n"
       "[sources]\nvolumetric = 0.1\npoints = [{ at = [36, 23], energy = 1.0 }]\n"},
      {"2D Dirichlet 0 + sources",
       "dim = 2\nn = [31, 20]\n[sources]\nvolumetric = 0.3\n"
       "points = [{ at = [0, 0], energy = 1.5 }, { at = [17, 11], energy = -2.0 }]\n"},
      {"2D mixed", "dim = 2\nn = [23, 18]\n[boundary]\nx = \"dirichlet\"\ny = \"periodic\"\n"},
      {"3D periodic", "dim = 3\nn = [16, 12, 5]\nboundary.all = \"periodic\"\n"},
      {"3D mixed + sources",
       "dim = 3\nn = [11, 8, 13]\n[boundary]\nx = \"periodic\"\ny = \"dirichlet\"\n"
       "z = \"periodic\"\n[sources]\npoints = [{ at = [10, 7, 12], energy = 3.0 }]\n"},
      {"3D thin (empty slabs)", "dim = 3\nn = [5, 4, 2]\n"},
      {"2D periodic, 40 sources (FFT)", many_sources(40)},
      {"1D periodic (replicated)", "dim = 1\nn = 101\nboundary.all = \"periodic\"\n"},
      {"2D continuous Gaussian", "preset = \"gaussian2d\"\nn = 64\n", SpectralMode::continuous,
       false},
      {"3D continuous Gaussian", "preset = \"gaussian3d\"\nn = 24\ninitial.width = 0.15\n",
       SpectralMode::continuous, false},
      {"case study 97^2", "preset = \"stencil\"\nn = 97\n", SpectralMode::discrete, false},
  };
  unsigned seed = 3;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " on " + std::to_string(world_size()) + " ranks:\n" + c.toml);
    const Problem p = test::problem(c.toml);
    SpectralSolver serial(p, c.mode, 1);
    // Every other case with two FFTW threads per rank (MPI_THREAD_FUNNELED).
    const int threads = 1 + static_cast<int>(&c - cases.data()) % 2;
    SpectralSolver dist(p, SpectralOptions{c.mode, threads, FftPlanning::estimate}, world());
    if (c.random) {
      const auto u0 = random_field(p.grid, seed++);
      serial.set_initial(u0);
      dist.set_initial(u0);
    }
    for (std::int64_t steps : {0, 3, 40, 500}) {
      serial.advance_to(steps);
      dist.advance_to(steps);
      const auto d = difference_everywhere(dist.gather(), serial.field());
      const Stats a = dist.stats(), b = serial.stats();
      if (world_rank() == 0)
        std::printf("%d ranks, %-26s steps %3lld: relative L2 %.2e, max %.2e (%s)\n", world_size(),
                    c.name.c_str(), static_cast<long long>(steps), d[0], d[1],
                    dist.describe().c_str());
      EXPECT_LT(d[0], 1e-13) << steps;
      EXPECT_LT(d[1], 1e-13) << steps;
      EXPECT_NEAR(a.l2, b.l2, 1e-13 * b.l2);
      EXPECT_NEAR(a.heat, b.heat, 1e-12 * (std::fabs(b.heat) + b.l2));
    }
  }
}

TEST(SpectralMpi, CaseStudyHeat) {
  const Problem p = test::problem("preset = \"stencil\"\nn = 240\n");
  SpectralSolver dist(p, SpectralOptions{}, world());
  dist.solve();
  SpectralSolver serial(p);
  serial.solve();
  // 3 x 500 energy went in; at n = 240 some of it has reached the boundary.
  EXPECT_NEAR(dist.stats().heat, serial.stats().heat, 1e-12 * 1500.0);
  EXPECT_NEAR(dist.stats().heat, 1500.0, 2.0);
  EXPECT_EQ(dist.local_box().size(0), 240);  // slabs along y: every rank holds whole x rows
}

// In 1D every rank transforms the whole line: a State's statistics (what a monitor sees) count
// the line once, as the run's do, not once per rank.
TEST(SpectralMpi, OneDimensionalStateCountsTheLineOnce) {
  const Config c = load_config(
      "dim = 1\nn = 96\nsteps = 20\nmethod = \"spectral\"\n"
      "initial = { type = \"gaussian\", centre = [48.0], width = 5.0 }\n",
      "1d spectral");
  calor::Run run(c, world());
  run.advance(10);
  const Stats from_state = run.state().stats(), from_run = run.stats();
  EXPECT_GT(from_run.heat, 1.0);
  EXPECT_EQ(from_state.heat, from_run.heat);
  EXPECT_EQ(from_state.l2, from_run.l2);
}

TEST(SpectralMpi, WisdomRoundTrip) {
  const std::string path = "calor_spectral_mpi_wisdom.txt";
  const Problem p = test::problem("dim = 2\nn = [32, 24]\nboundary.all = \"periodic\"\n");
  SpectralSolver dist(p, SpectralOptions{SpectralMode::discrete, 1, FftPlanning::measure}, world());
  export_fft_wisdom(path, world());
  EXPECT_TRUE(import_fft_wisdom(path, world()));
  EXPECT_FALSE(import_fft_wisdom(path + ".missing", world()));
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) std::remove(path.c_str());
}

TEST(SpectralMpi, RefusalsAreCollective) {
  const Problem p = test::problem("dim = 2\nn = 16\nboundary.all = \"neumann\"\n");
  EXPECT_THROW(SpectralSolver(p, SpectralOptions{}, world()), Error);
}

#else

TEST(SpectralMpi, NeedsFftwMpi) {
  GTEST_SKIP() << "calor was built without FFTW-MPI";
}

#endif

}  // namespace
}  // namespace calor
