// Physics checks: energy balance, convergence to the exact solution, and each boundary kind.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "calor/analytic.hpp"
#include "calor/halo.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

// Heat entering through every face in one step of the expanded scheme, computed from the
// interior alone and the boundary definitions (not from the solver's halo):
// sum over face cells of r_d * (ghost - first interior cell).
double boundary_inflow(const Problem& p, const Field& f) {
  const Grid& g = p.grid;
  const auto r = p.fourier_numbers();
  double in = 0;
  for (int a = 0; a < g.dim; ++a)
    for (int side = 0; side < 2; ++side) {
      const Boundary& b = p.boundaries.face[a][side];
      for_each_cell(g, [&](index_t i, index_t j, index_t k) {
        const std::array<index_t, 3> c{i, j, k};
        if (c[a] != (side == 0 ? 0 : g.n[a] - 1)) return;
        const double u = f(i, j, k);
        const double ghost = b.kind == BoundaryKind::dirichlet ? b.value : u + b.value * g.h[a];
        in += r[a] * (ghost - u);
      });
    }
  return in;
}

TEST(EnergyBalance, HeatChangeIsSourcesPlusBoundaryInflow) {
  for (int dim : {1, 2, 3}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::string toml = R"(
      dim = )" + std::to_string(dim) +
                             R"(
      n = [)" +
                             (dim == 1   ? "40"
                              : dim == 2 ? "23, 17"
                                         : "11, 9, 7") +
                             R"(]
      h = [)" +
                             (dim == 1   ? "0.5"
                              : dim == 2 ? "0.5, 0.25"
                                         : "0.5, 0.25, 0.4") +
                             R"(]
      alpha = 0.7
      steps = 60
      [boundary]
      x_low = { type = "dirichlet", value = 1.5 }
      x_high = { type = "neumann", gradient = -0.8 }
      y = { type = "dirichlet", value = -0.25 }
      z_low = { type = "neumann", gradient = 0.3 }
      [sources]
      volumetric = 0.9
      points = [{ at = [3, 2, 1], energy = 0.75 }, { at = [5, 1, 0], energy = 0.5 }]
      [initial]
      type = "constant"
      value = 0.2
    )";
    std::string t = toml;
    if (dim < 3) {  // drop keys that do not exist in lower dimensions
      t.replace(t.find("z_low"), t.find('\n', t.find("z_low")) - t.find("z_low"), "");
      const std::string at = dim == 1 ? "[3]" : "[3, 2]", at2 = dim == 1 ? "[5]" : "[5, 1]";
      t.replace(t.find("[3, 2, 1]"), 9, at);
      t.replace(t.find("[5, 1, 0]"), 9, at2);
    }
    if (dim < 2) t.replace(t.find("y = {"), t.find('\n', t.find("y = {")) - t.find("y = {"), "");
    const Problem p = test::problem(t);
    Solver s(p, make_backend("serial"));
    const double cells = static_cast<double>(p.grid.cells());
    double expected = s.stats().heat, moved = 0;
    for (std::int64_t step = 0; step < p.steps; ++step) {
      const double inflow = boundary_inflow(p, s.field());
      const double injected = 0.75 + 0.5 + cells * p.sources.volumetric * p.dt;
      expected += inflow + injected;
      moved += std::fabs(inflow) + injected;
      s.step(1);
    }
    const double heat = s.stats().heat;
    std::printf("dim %d: heat %.15g, balance %.15g, relative gap %.2e\n", dim, heat, expected,
                std::fabs(heat - expected) / moved);
    EXPECT_NEAR(heat, expected, 1e-10 * moved);
    EXPECT_GT(moved, 1.0);  // the test exercises real fluxes
  }
}

// Measured order of convergence to the exact Gaussian for a fixed final time, r held fixed so
// that dt shrinks like h^2.
double measured_order(int dim, const std::vector<int>& sizes, double width, int base_steps) {
  std::vector<double> errors;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const int steps = base_steps * (1 << (2 * i));  // dt ~ h^2: 4x the steps per halving
    const Problem p = test::problem("preset = \"gaussian" + std::to_string(dim) + "d\"\n",
                                    {{"n", std::to_string(sizes[i]), "t"},
                                     {"steps", std::to_string(steps), "t"},
                                     {"initial.width", std::to_string(width), "t"}});
    const Solver s = test::solve(p);
    errors.push_back(*analytic_error(p, s.gather(), s.time()));
    std::printf("%dD n=%d steps=%d t=%.6g error=%.4e\n", dim, sizes[i], steps, s.time(),
                errors.back());
  }
  const double order = std::log2(errors[errors.size() - 2] / errors.back());
  std::printf("%dD observed order of convergence: %.3f\n", dim, order);
  return order;
}

TEST(Convergence, Gaussian2dIsSecondOrder) {
  EXPECT_NEAR(measured_order(2, {64, 128, 256}, 0.05, 64), 2.0, 0.2);
}

TEST(Convergence, Gaussian3dIsSecondOrder) {
  EXPECT_NEAR(measured_order(3, {16, 32, 64}, 0.1, 6), 2.0, 0.2);
}

// Periodic: a cyclic shift of the initial state gives the cyclically shifted result, bit for bit,
// even with heat crossing the faces.
TEST(Boundaries, PeriodicIsTranslationInvariant) {
  const index_t nx = 20, ny = 13, shift = 7;
  const Problem p = test::problem(R"(
    dim = 2
    n = [20, 13]
    steps = 40
    boundary.all = "periodic"
    initial = { type = "gaussian", centre = [2.0, 3.0], width = 1.5 }
  )");
  auto shifted = [&](const std::vector<double>& v) {
    std::vector<double> r(v.size());
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i)
        r[static_cast<std::size_t>((i + shift) % nx + nx * ((j + shift) % ny))] =
            v[static_cast<std::size_t>(i + nx * j)];
    return r;
  };
  Solver a(p, make_backend("serial")), b(p, make_backend("serial"));
  const double heat0 = a.stats().heat;
  const auto init = shifted(test::interior(b.field()));
  b.field().copy_interior_from(init.data());
  a.step(p.steps);
  b.step(p.steps);
  EXPECT_TRUE(test::same_bits(test::interior(b.field()), shifted(test::interior(a.field()))));
  // Heat crossed the faces (the bump started next to x_low and y_low) and none was lost.
  EXPECT_GT(a.field()(nx - 1, 3), 1e-3);
  EXPECT_GT(a.field()(3, ny - 1), 1e-3);
  EXPECT_NEAR(a.stats().heat, heat0, 1e-12 * heat0);
}

// Threads that fill the halo beside their own rows (fill_physical_rows), however the rows are
// split, fill every face cell a star stencil reads as fill_halo does: each kind, periodic
// copies, the two sides of each axis, and splits that end mid-plane.
TEST(Boundaries, RowsFillTheFacesAsTheWholeHaloDoes) {
  const auto face = [](BoundaryKind kind, double value = 0, double h = 0) {
    Boundary b;
    b.kind = kind;
    b.value = value;
    b.coefficient = h;
    return b;
  };
  const Boundary periodic = face(BoundaryKind::periodic),
                 dirichlet = face(BoundaryKind::dirichlet, -1.5),
                 neumann = face(BoundaryKind::neumann, 0.25),
                 robin = face(BoundaryKind::robin, 0.75, 0.5);
  Boundaries x_periodic, z_periodic;
  x_periodic.face = {{{periodic, periodic}, {dirichlet, neumann}, {robin, robin}}};
  z_periodic.face = {{{dirichlet, robin}, {neumann, robin}, {periodic, periodic}}};
  const Grid g{3, {9, 5, 4}, {1, 0.5, 2}};
  const Conductivity k{1.25, nullptr};
  FaceMask every{};
  for (auto& axis : every)
    axis = {true, true};
  // A star stencil reads the halo cells beside a face's interior cells: one index out of range.
  const auto face_cells_equal = [&](const Field& a, const Field& b) {
    int checked = 0;
    for (index_t z = -1; z <= g.n[2]; ++z)
      for (index_t y = -1; y <= g.n[1]; ++y)
        for (index_t x = -1; x <= g.n[0]; ++x) {
          const int out = (x < 0 || x >= g.n[0]) + (y < 0 || y >= g.n[1]) + (z < 0 || z >= g.n[2]);
          if (out != 1) continue;
          ++checked;
          const double u = a(x, y, z), v = b(x, y, z);
          if (std::memcmp(&u, &v, sizeof(double)) != 0) return -1;
        }
    return checked;
  };
  for (const Boundaries& bc : {x_periodic, z_periodic})
    for (const std::vector<index_t>& cuts : std::vector<std::vector<index_t>>{
             {0, 20}, {0, 10, 20}, {0, 3, 11, 20}, {0, 7, 8, 13, 20}, {0, 1, 19, 20}}) {
      Field whole(g, 1), rows(g, 1);
      for_each_cell(g, [&](index_t i, index_t j, index_t kk) {
        whole(i, j, kk) = rows(i, j, kk) =
            std::sin(static_cast<double>(1 + 3 * i + 7 * j + 11 * kk));
      });
      fill_halo(bc, g, whole, k);
      for (std::size_t c = 0; c + 1 < cuts.size(); ++c)
        fill_physical_rows(bc, g, rows, cuts[c], cuts[c + 1], every, k);
      EXPECT_EQ(face_cells_equal(whole, rows), 2 * (9 * 5 + 9 * 4 + 5 * 4))
          << "rows cut at " << cuts[1];
    }
}

// Neumann 0 at a face acts as a mirror: the field equals half of a run on the mirrored, doubled
// domain, bit for bit.
TEST(Boundaries, NeumannZeroIsAMirror) {
  for (int axis = 0; axis < 2; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const std::string face = axis == 0 ? "x_low" : "y_low";
    const std::string n = axis == 0 ? "[8, 5]" : "[5, 8]", n2 = axis == 0 ? "[16, 5]" : "[5, 16]";
    const Problem half =
        test::problem("dim = 2\nn = " + n +
                      "\nsteps = 30\n[boundary]\nall = { type = \"dirichlet\", value = 1.0 }\n" +
                      face + " = \"neumann\"\n[initial]\ntype = \"constant\"\nvalue = 0.0\n");
    const Problem full =
        test::problem("dim = 2\nn = " + n2 +
                      "\nsteps = 30\n[boundary]\nall = { type = \"dirichlet\", value = 1.0 }\n");
    const auto a = test::interior(test::solve(half).field());
    const auto b = test::interior(test::solve(full).field());
    std::vector<double> upper;  // the mirrored run's cells 8..15 along `axis`
    for (index_t j = 0; j < (axis == 0 ? 5 : 16); ++j)
      for (index_t i = 0; i < (axis == 0 ? 16 : 5); ++i)
        if ((axis == 0 ? i : j) >= 8)
          upper.push_back(b[static_cast<std::size_t>(i + (axis == 0 ? 16 : 5) * j)]);
    EXPECT_TRUE(test::same_bits(a, upper));
    EXPECT_GT(a[0], 0.0);  // heat did reach the mirror face
  }
}

// A linear profile with a Dirichlet value at one end and the matching gradient at the other is a
// steady state of the discrete scheme; a wrong ghost value at either face breaks it.
TEST(Boundaries, LinearProfileIsSteadyUnderDirichletAndNeumann) {
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const char* ax[] = {"x", "y", "z"};
    const double t0 = 2.0, grad = 0.3, h = 0.5;
    Problem p = test::problem(
        "dim = 3\nn = [6, 7, 5]\nh = 0.5\nsteps = 50\n[boundary]\nall = \"periodic\"\n" +
        std::string(ax[axis]) + "_low = { type = \"dirichlet\", value = 2.0 }\n" + ax[axis] +
        "_high = { type = \"neumann\", gradient = 0.3 }\n");
    Solver s(p, make_backend("serial"));
    for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) {
      const std::array<index_t, 3> c{i, j, k};
      s.field()(i, j, k) = t0 + grad * static_cast<double>(c[axis] + 1) * h;
    });
    const auto before = test::interior(s.field());
    s.step(p.steps);
    const auto after = test::interior(s.field());
    double worst = 0;
    for (std::size_t i = 0; i < before.size(); ++i)
      worst = std::max(worst, std::fabs(after[i] - before[i]));
    EXPECT_LT(worst, 1e-12);
  }
}

// Two Dirichlet values: the steady state is the straight line between the boundary nodes, which
// sit in the halo at x = 0 and x = (n + 1) h.
TEST(Boundaries, DirichletSteadyStateIsLinear) {
  const Problem p = test::problem(
      "dim = 1\nn = 15\nsteps = 6000\n[boundary]\nx_low = { type = \"dirichlet\", value = 1.0 }\n"
      "x_high = { type = \"dirichlet\", value = 3.0 }\n");
  const auto u = test::interior(test::solve(p).field());
  for (int i = 0; i < 15; ++i)
    EXPECT_NEAR(u[i], 1.0 + 2.0 * (i + 1) / 16.0, 1e-10) << i;
}

TEST(Boundaries, InsulatedBoxConservesHeat) {
  const Problem p = test::problem(
      "dim = 3\nn = [9, 8, 7]\nsteps = 80\nboundary.all = \"neumann\"\n"
      "initial = { type = \"gaussian\", centre = [2.0, 2.0, 2.0], width = 1.0 }\n");
  Solver s(p, make_backend("serial"));
  const double h0 = s.stats().heat;
  const double max0 = s.stats().max;
  s.step(p.steps);
  EXPECT_NEAR(s.stats().heat, h0, 1e-12 * h0);
  EXPECT_LT(s.stats().max, 0.5 * max0);  // it did diffuse
}

}  // namespace
}  // namespace calor
