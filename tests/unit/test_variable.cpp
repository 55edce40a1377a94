// Variable diffusivity, source fields, Robin faces and time tables against exact and
// manufactured solutions: the measured order of convergence, heat conservation, two materials in
// series, a convective face, and a ramped face against an independent loop.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>

#include "calor/error.hpp"
#include "calor/npy.hpp"
#include "calor/spectral.hpp"
#include "cases.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

constexpr double kPi = std::numbers::pi;

// Steps `s` until the largest change over a chunk of steps is below `tol`; returns the steps.
std::int64_t run_to_steady(Solver& s, double tol, std::int64_t chunk = 500,
                           std::int64_t limit = 2'000'000) {
  std::vector<double> before = test::interior(s.field());
  for (std::int64_t done = 0; done < limit; done += chunk) {
    s.step(chunk);
    std::vector<double> after = test::interior(s.field());
    double change = 0;
    for (std::size_t c = 0; c < after.size(); ++c)
      change = std::max(change, std::abs(after[c] - before[c]));
    if (change < tol) return done + chunk;
    before = std::move(after);
  }
  ADD_FAILURE() << "no steady state after " << limit << " steps";
  return limit;
}

// The manufactured steady state on [0, 1]^dim with Dirichlet-0 faces: u = prod sin(pi x_d),
// alpha = 1 + 0.25 prod cos(pi x_d) (no normal gradient at the faces, where calor continues the
// boundary cell's alpha into the halo), q = -div(alpha grad u). Returns the largest error of
// calor's steady state with n cells per axis.
double manufactured_error(int dim, index_t n, const std::string& backend) {
  Problem p;
  p.grid.dim = dim;
  for (int a = 0; a < dim; ++a) {
    p.grid.n[a] = n;
    p.grid.h[a] = 1.0 / static_cast<double>(n + 1);
  }
  const auto cells = static_cast<std::size_t>(p.grid.cells());
  auto alpha = std::make_shared<std::vector<double>>(cells);
  auto q = std::make_shared<std::vector<double>>(cells);
  std::vector<double> exact(cells);
  for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) {
    const std::array<index_t, 3> c{i, j, k};
    double s[3], co[3];
    for (int a = 0; a < dim; ++a) {
      const double x = cell_coordinate(p.grid, a, c[a]);
      s[a] = std::sin(kPi * x);
      co[a] = std::cos(kPi * x);
    }
    double u = 1, cc = 1;
    for (int a = 0; a < dim; ++a) {
      u *= s[a];
      cc *= co[a];
    }
    const double al = 1.0 + 0.25 * cc;
    double div = -dim * kPi * kPi * al * u;  // alpha laplacian(u)
    for (int a = 0; a < dim; ++a) {
      double du = kPi * co[a], dal = -0.25 * kPi * s[a];
      for (int b = 0; b < dim; ++b)
        if (b != a) {
          du *= s[b];
          dal *= co[b];
        }
      div += dal * du;  // grad(alpha) . grad(u)
    }
    const auto at = static_cast<std::size_t>(i + n * (j + n * k));
    (*alpha)[at] = al;
    (*q)[at] = -div;
    exact[at] = u;
  });
  p.diffusivity.kind = CellValuesKind::array;
  p.diffusivity.data = alpha;
  p.sources.field.kind = CellValuesKind::array;
  p.sources.field.data = q;
  p.alpha = 1.0;
  p.dt = p.default_dt();
  Solver s(p, make_backend(backend));
  run_to_steady(s, 1e-13);
  const std::vector<double> u = test::interior(s.field());
  double err = 0;
  for (std::size_t c = 0; c < cells; ++c)
    err = std::max(err, std::abs(u[c] - exact[c]));
  return err;
}

TEST(Variable, ManufacturedSolutionConvergesAtSecondOrder) {
  struct Level {
    int dim;
    std::vector<index_t> n;
  };
  for (const Level& l : {Level{1, {15, 31, 63}}, Level{2, {15, 31, 63}}, Level{3, {7, 15, 31}}}) {
    std::printf("%dD manufactured steady state, variable alpha:\n     n   max error   order\n",
                l.dim);
    double previous = 0;
    for (std::size_t r = 0; r < l.n.size(); ++r) {
      // One thread: a steady state takes thousands of steps on grids this small, and a barrier
      // per step made this test 81 s of the ASan suite with the threads backend (10 s now; the
      // backends agree bit for bit, other tests check that).
      const double e = manufactured_error(l.dim, l.n[r], l.dim == 1 ? "serial" : "simd");
      // h halves from one level to the next: (n + 1) doubles.
      const double order = r > 0 ? std::log2(previous / e) : 0.0;
      std::printf("  %4td   %.3e   %s\n", l.n[r], e,
                  r > 0 ? std::to_string(order).substr(0, 4).c_str() : "");
      if (r > 0) {
        EXPECT_GT(order, 1.9) << l.dim << "D, n = " << l.n[r];
        EXPECT_LT(order, 2.2) << l.dim << "D, n = " << l.n[r];
      }
      previous = e;
    }
  }
}

// Insulated (Neumann 0) faces: the heat is conserved to rounding over 10^4 steps, for materials
// a thousand times apart, on every backend.
TEST(Variable, ZeroFluxFacesConserveHeat) {
  Problem p = test::problem(
      "dim = 2\nn = [61, 47]\nsteps = 10000\nboundary.all = \"neumann\"\n"
      "diffusivity = { type = \"sphere\", centre = [20.0, 25.0], radius = 12.0, inside = "
      "0.001 }\ninitial = { type = \"gaussian\", centre = [30.0, 20.0], width = 6.0 }\n");
  for (const char* backend : {"serial", "simd", "threads", "tiled"}) {
    Solver s(p, make_backend(backend));
    const double before = s.stats().heat;
    s.step(p.steps);
    const double after = s.stats().heat;
    EXPECT_NEAR(after, before, 1e-12 * before) << backend;
    EXPECT_GT(s.stats().min, 0.0) << backend;  // the heat spread, it did not vanish
  }
}

// Two materials in series between Dirichlet faces: the harmonic face mean makes the discrete
// steady state the exact piecewise-linear one when the interface lies on a face.
TEST(Variable, TwoMaterialBarMatchesTheExactSteadyState) {
  const index_t n = 40, m = 15;  // cells 0..m-1 of material 1; the interface at (m + 0.5) h
  const double a1 = 3.0, a2 = 0.2, t0 = 1.0, t1 = -0.5, h = 1.0;
  Problem p = test::problem(
      "dim = 1\nn = 40\nboundary.x_low = { type = \"dirichlet\", value = 1.0 }\n"
      "boundary.x_high = { type = \"dirichlet\", value = -0.5 }\n"
      "diffusivity = { type = \"layers\", bounds = [15.5], values = [3.0, 0.2] }\n");
  Solver s(p, make_backend("simd"));
  run_to_steady(s, 1e-15);
  // The halo nodes sit at 0 and (n + 1) h; the flux F is the same in both materials.
  const double xi = (static_cast<double>(m) + 0.5) * h, length = static_cast<double>(n + 1) * h;
  const double flux = (t0 - t1) / (xi / a1 + (length - xi) / a2);
  for (index_t i = 0; i < n; ++i) {
    const double x = cell_coordinate(p.grid, 0, i);
    const double exact = x < xi ? t0 - flux * x / a1 : t0 - flux * xi / a1 - flux * (x - xi) / a2;
    EXPECT_NEAR(s.field()(i), exact, 1e-11) << "cell " << i;
  }
}

// A Robin face: -alpha du/dn = H (u - u_inf) at (n + 1/2) h, with a Dirichlet face at 0. The
// steady state is linear, and the discrete one is exactly it.
TEST(Variable, RobinSteadyStateMatchesItsClosedForm) {
  for (const char* alpha : {"alpha = 2.0\n",
                            "diffusivity = { type = \"box\", lo = [0.0], hi = "
                            "[100.0], inside = 2.0 }\n"}) {
    Problem p = test::problem("dim = 1\nn = 30\nh = 0.1\n" + std::string(alpha) +
                              "boundary.x_low = { type = \"dirichlet\", value = 5.0 }\n"
                              "boundary.x_high = { type = \"robin\", h = 3.0, ambient = 1.0 }\n");
    Solver s(p, make_backend("serial"));
    run_to_steady(s, 1e-15);
    const double t0 = 5.0, ambient = 1.0, H = 3.0, a = 2.0;
    const double xr = (30 + 0.5) * 0.1;
    const double slope = -H * (t0 - ambient) / (a + H * xr);
    for (index_t i = 0; i < 30; ++i)
      EXPECT_NEAR(s.field()(i), t0 + slope * cell_coordinate(p.grid, 0, i), 1e-11)
          << alpha << "cell " << i;
  }
}

// A face ramped by a time table and a source switched on by one, against a plain loop written
// here from the definition (each step takes the tables' values at its start time).
TEST(Variable, TimeTablesMatchAnIndependentLoop) {
  const std::string toml =
      "dim = 1\nn = 25\nsteps = 300\nalpha = 0.5\ndt = 0.5\n"
      "boundary.x_low = { type = \"dirichlet\", value = [[0.0, 0.0], [40.0, 2.0], [100.0, 1.0]] "
      "}\nboundary.x_high = { type = \"robin\", h = 0.4, ambient = [[0.0, 1.0], [150.0, -1.0]] "
      "}\nsources.points = [{ at = [12], energy = [[20.0, 0.0], [21.0, 0.3]] }]\n";
  const Problem p = test::problem(toml);
  ASSERT_TRUE(p.time_dependent());
  auto ramp = [](double t, std::vector<std::pair<double, double>> pts) {
    if (t <= pts.front().first) return pts.front().second;
    for (std::size_t i = 1; i < pts.size(); ++i)
      if (t < pts[i].first)
        return pts[i - 1].second + (t - pts[i - 1].first) / (pts[i].first - pts[i - 1].first) *
                                       (pts[i].second - pts[i - 1].second);
    return pts.back().second;
  };
  std::vector<double> u(27, 0.0), next(27, 0.0);  // u[0] and u[26] are the halo
  const double r = 0.5 * 0.5;
  for (int step = 0; step < 300; ++step) {
    const double t = step * 0.5;
    u[0] = ramp(t, {{0, 0}, {40, 2}, {100, 1}});
    const double beta = 0.4 * 1.0 / 0.5, amb = ramp(t, {{0, 1}, {150, -1}});
    u[26] = ((1 - 0.5 * beta) * u[25] + beta * amb) / (1 + 0.5 * beta);
    for (int i = 1; i <= 25; ++i)
      next[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1]);
    next[13] += ramp(t, {{20, 0}, {21, 0.3}});
    std::swap(u, next);
  }
  for (const char* backend : {"serial", "simd", "tiled"}) {
    Solver s(p, make_backend(backend));
    s.step(120);
    s.step(180);
    for (index_t i = 0; i < 25; ++i)
      EXPECT_NEAR(s.field()(i), u[static_cast<std::size_t>(i + 1)], 1e-12) << backend << " " << i;
  }
}

// Bad input names the key, the value and the cell.
TEST(Variable, BadFieldsAndTablesAreRefusedByName) {
  auto error_of = [](const Problem& p) {
    try {
      p.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Problem p = test::problem("dim = 2\nn = [4, 3]\n");
  auto a = std::make_shared<std::vector<double>>(12, 1.0);
  (*a)[6] = -2.0;  // cell (2, 1)
  p.diffusivity.kind = CellValuesKind::array;
  p.diffusivity.data = a;
  EXPECT_NE(error_of(p).find("diffusivity is -2 at cell (2, 1)"), std::string::npos) << error_of(p);
  (*a)[6] = NAN;
  EXPECT_NE(error_of(p).find("diffusivity is nan at cell (2, 1)"), std::string::npos)
      << error_of(p);
  p.diffusivity.data = std::make_shared<std::vector<double>>(11, 1.0);
  EXPECT_NE(error_of(p).find("has 11 values; the grid has 12 cells: give an array of shape (3, 4)"),
            std::string::npos)
      << error_of(p);
  for (const auto& [toml, message] : std::vector<std::pair<std::string, std::string>>{
           {"boundary.x_low = { type = \"dirichlet\", value = [[0.0, 1.0], [0.0, 2.0]] }",
            "boundary.x_low.value' (test.toml): the times of a table must increase, but point 1 "
            "has time 0 after time 0"},
           {"boundary.x_low = { type = \"robin\", ambient = 1.0 }", "a robin face needs h"},
           {"boundary.x_low = { type = \"robin\", h = -1.0 }", "must be finite and >= 0"},
           {"diffusivity = { type = \"layers\", bounds = [1.0, 0.5], values = [1.0, 2.0, 3.0] }",
            "diffusivity.bounds must increase, but bounds[1] = 0.5 follows 1"},
           {"diffusivity = { type = \"layers\", bounds = [1.0], values = [1.0] }",
            "1 bounds and 1 values"},
           {"diffusivity = { type = \"box\", lo = [0.0, 0.0], hi = [9.0, 9.0], inside = 0.0 }",
            "diffusivity is 0 at cell (0, 0): a diffusivity must be positive"},
           {"diffusivity = { type = \"box\", lo = [0.0, 0.0], hi = [2.0, 2.0], inside = 9.0 }\n"
            "form = \"factored\"",
            "form = \"factored\" needs one alpha everywhere"},
           {"diffusivity = { type = \"box\", lo = [0.0, 0.0], hi = [2.0, 2.0], inside = 9.0 }\n"
            "dt = 0.25",
            "r = max(alpha) (9)*dt*sum(1/h^2) = 4.5 exceeds the FTCS limit 0.5. The largest stable "
            "dt is 0.0277"},
           {"sources.field = { type = \"npy\", path = \"/nonexistent/q.npy\" }", "q.npy"},
           {"method = \"spectral\"\ndiffusivity = { type = \"box\", lo = [0.0, 0.0], hi = [2.0, "
            "2.0], inside = 9.0 }",
            "the spectral method needs one alpha everywhere"},
       }) {
    SCOPED_TRACE(toml);
    std::string got = "no error";
    try {
      const Config c = load_config("dim = 2\nn = [4, 3]\n" + toml + "\n", "test.toml", {});
      c.problem.validate();
      if (toml.find("spectral") != std::string::npos)
        check_spectral(c.problem, SpectralMode::discrete);
    } catch (const Error& e) {
      got = e.what();
    }
    EXPECT_NE(got.find(message), std::string::npos) << got;
  }
}

// alpha from a .npy file and from an HDF5 dataset (a checkpoint's /field) is the array itself:
// the same bits as the array given in memory.
TEST(Variable, FilesGiveTheSameAlphaAsTheArray) {
  const auto dir = std::filesystem::temp_directory_path() / "calor_variable_files";
  std::filesystem::create_directories(dir);
  const std::string npy = (dir / "alpha.npy").string(), h5 = (dir / "alpha.h5").string();
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.05, 2.0);
  auto alpha = std::make_shared<std::vector<double>>(20 * 13);
  for (double& v : *alpha)
    v = u(rng);
  save_npy(npy, {13, 20}, alpha->data());
  {  // a checkpoint whose field is alpha
    Problem holder = test::problem("dim = 2\nn = [20, 13]\nsteps = 0\n");
    Solver s(holder, make_backend("serial"));
    s.field().copy_interior_from(alpha->data());
    test::write_checkpoint(s, h5);
  }
  const std::string base =
      "dim = 2\nn = [20, 13]\nsteps = 30\nboundary.all = \"neumann\"\n"
      "initial = { type = \"gaussian\", width = 3.0 }\n";
  Problem in_memory = test::problem(base);
  in_memory.diffusivity.kind = CellValuesKind::array;
  in_memory.diffusivity.data = alpha;
  in_memory.dt = in_memory.default_dt();
  const auto want = test::interior(test::solve(in_memory, "simd").field());
  for (const std::string& spec :
       {"diffusivity = { type = \"npy\", path = \"" + npy + "\" }\n",
        "diffusivity = { type = \"hdf5\", path = \"" + h5 + "\", dataset = \"/field\" }\n"}) {
    SCOPED_TRACE(spec);
    const Problem p = test::problem(base + spec);
    EXPECT_EQ(p.dt, in_memory.dt);
    EXPECT_TRUE(test::same_bits(test::interior(test::solve(p, "simd").field()), want));
  }
  // A file of another shape is refused with both shapes.
  save_npy(npy, {20, 13}, alpha->data());
  try {
    test::problem(base + "diffusivity = { type = \"npy\", path = \"" + npy + "\" }\n");
    ADD_FAILURE() << "accepted a transposed alpha";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has shape (20, 13), but the grid needs (13, 20)"),
              std::string::npos)
        << e.what();
  }
  // A FIFO (or a device) named as the file would block the reader forever: refused at once.
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& spec :
       {"diffusivity = { type = \"npy\", path = \"" + fifo + "\" }\n",
        "diffusivity = { type = \"hdf5\", path = \"" + fifo + "\", dataset = \"/a\" }\n",
        "initial = { type = \"npy\", path = \"" + fifo + "\" }\n"}) {
    SCOPED_TRACE(spec);
    try {
      test::solve(test::problem("dim = 2\nn = [20, 13]\nsteps = 1\n" + spec));
      ADD_FAILURE() << "read a FIFO";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("it is not a regular file"), std::string::npos)
          << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

// A checkpoint's fingerprint names each time table, not the whole problem: a restart may run
// more steps (it was refused, since the fingerprint held the problem's TOML with its steps),
// but not another table.
TEST(Variable, ARestartMayChangeStepsButNotATable) {
  const std::string toml =
      "dim = 1\nn = 10\nboundary.x_low = { type = \"dirichlet\", value = [[0.0, 1.0], [5.0, "
      "2.0]] }\nsources.points = [{ at = [3], energy = [[0.0, 0.5], [1.0, 0.0]] }]\n";
  const auto base = fingerprint(test::problem(toml + "steps = 10\n"));
  EXPECT_EQ(fingerprint(test::problem(toml + "steps = 99\n")), base);
  std::string other = toml;
  other.replace(other.find("[5.0, 2.0]"), 10, "[5.0, 3.0]");
  EXPECT_NE(fingerprint(test::problem(other + "steps = 10\n")), base);
  other = toml;
  other.replace(other.find("[1.0, 0.0]"), 10, "[2.0, 0.0]");
  EXPECT_NE(fingerprint(test::problem(other + "steps = 10\n")), base);
}

// A restart needs the problem from the checkpoint alone: the TOML written back reads as the same
// problem, fields, tables and Robin faces included.
TEST(Variable, ProblemTomlRoundTrips) {
  for (const test::Case& c : test::cases()) {
    if (c.name.rfind("variable", 0) != 0) continue;
    SCOPED_TRACE(c.toml);
    const Problem p = test::problem(c.toml);
    const Problem back = test::problem(problem_toml(p));
    EXPECT_EQ(fingerprint(back), fingerprint(p));
  }
}

}  // namespace
}  // namespace calor
