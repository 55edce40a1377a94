#include "calor/problem.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/machine.hpp"

namespace calor {

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest form that still round-trips.
  for (int p = 1; p <= 17; ++p) {
    char b2[64];
    std::snprintf(b2, sizeof b2, "%.*g", p, v);
    if (std::strtod(b2, nullptr) == v) return b2;
  }
  return buf;
}

const char* axis_name(int a) {
  return a == 0 ? "x" : a == 1 ? "y" : "z";
}

void require_positive(const char* key, double v) {
  if (!(v > 0) || !std::isfinite(v))
    throw Error("invalid " + std::string(key) + " = " + num(v) +
                ": must be a positive finite number");
}

// A grid may be larger than one machine (MPI spreads it over many), but not by more than this
// factor: about a million machines like this one, more nodes than any cluster has.
constexpr double kMaxMachines = 1 << 20;

// Refuses a grid whose cells, or the bytes of its two fields (the current and next step), do
// not fit in index_t, or that needs more than kMaxMachines times this machine's memory: what
// would otherwise wrap the sizes every block and field is allocated with.
void require_allocatable(const Grid& g) {
  const std::optional<index_t> cells = g.checked_cells();
  const std::optional<index_t> bytes =
      cells ? checked_mul(*cells, index_t{2 * sizeof(double)}) : std::nullopt;
  const double memory = static_cast<double>(physical_memory());
  if (bytes && (memory == 0 || static_cast<double>(*bytes) <= kMaxMachines * memory)) return;
  double need = 2.0 * sizeof(double);
  std::string shape;
  for (int a = 0; a < g.dim; ++a) {
    need *= static_cast<double>(g.n[a]);
    shape += (a > 0 ? " x " : "") + std::to_string(g.n[a]);
  }
  throw Error("the grid " + shape + " needs " + memory_size(need) +
              " for its two fields; this machine has " + machine_memory() +
              ": use a smaller grid or more MPI ranks");
}

}  // namespace

std::array<double, 3> Problem::fourier_numbers() const {
  std::array<double, 3> r{0, 0, 0};
  for (int a = 0; a < grid.dim; ++a)
    r[a] = max_alpha() * dt / (grid.h[a] * grid.h[a]);
  return r;
}

double Problem::stability_number() const {
  const auto r = fourier_numbers();
  return r[0] + r[1] + r[2];
}

double Problem::max_stable_dt() const {
  double s = 0;
  for (int a = 0; a < grid.dim; ++a)
    s += 1.0 / (grid.h[a] * grid.h[a]);
  return kStabilityLimit / (max_alpha() * s);
}

Coefficients Problem::coefficients() const {
  Coefficients k;
  k.r = fourier_numbers();
  if (form == StencilForm::expanded) {
    k.c0 = 1.0 - 2.0 * (k.r[0] + k.r[1] + k.r[2]);
  } else {
    k.c0 = 1.0 - 2.0 * grid.dim * k.r[0];
    k.c1 = k.r[0] / k.c0;
  }
  return k;
}

void Problem::validate_fields() const {
  diffusivity.validate("diffusivity", grid);
  diffusivity.require_values("diffusivity", grid, alpha, true);
  sources.field.validate("sources.field", grid);
  sources.field.require_values("sources.field", grid, 0.0, false);
}

void Problem::validate_values() const {
  for (int a = 0; a < grid.dim; ++a)
    for (int s = 0; s < 2; ++s) {
      const Boundary& b = boundaries.face[a][s];
      const std::string key = "boundary." + face_name(a, s);
      if (!std::isfinite(b.value)) throw Error(key + " value = " + num(b.value) + " is not finite");
      b.table.validate(key + ".value");
      if (b.kind == BoundaryKind::robin && !(b.coefficient >= 0 && std::isfinite(b.coefficient)))
        throw Error(key + ".h = " + num(b.coefficient) +
                    ": a Robin face's heat transfer coefficient must be finite and >= 0");
    }
  for (std::size_t s = 0; s < sources.points.size(); ++s) {
    const PointSource& p = sources.points[s];
    if (!std::isfinite(p.energy))
      throw Error("sources.points[" + std::to_string(s) + "].energy = " + num(p.energy) +
                  " is not finite");
    p.table.validate("sources.points[" + std::to_string(s) + "].energy");
  }
}

void Problem::validate() const {
  if (grid.dim < 1 || grid.dim > 3)
    throw Error("invalid dim = " + std::to_string(grid.dim) + ": must be 1, 2 or 3");
  for (int a = 0; a < 3; ++a) {
    if (a < grid.dim && grid.n[a] < 1)
      throw Error("invalid n = " + std::to_string(grid.n[a]) + " along " + axis_name(a) +
                  ": grid sizes must be positive integers");
    if (a >= grid.dim && grid.n[a] != 1)
      throw Error(std::string("invalid n along ") + axis_name(a) + " = " +
                  std::to_string(grid.n[a]) + " for a " + std::to_string(grid.dim) +
                  "D problem: inactive axes have one cell");
    if (a < grid.dim)
      require_positive((std::string("h (") + axis_name(a) + ")").c_str(), grid.h[a]);
  }
  require_allocatable(grid);
  require_positive("alpha", alpha);
  validate_fields();
  require_positive("dt", dt);
  if (steps < 0) throw Error("invalid steps = " + std::to_string(steps) + ": must be 0 or more");

  const double r = stability_number();
  if (r > kStabilityLimit && !allow_unstable)
    throw Error("dt = " + num(dt) + " is unstable: r = " +
                (diffusivity.empty() ? "alpha" : "max(alpha) (" + num(max_alpha()) + ")") +
                "*dt*sum(1/h^2) = " + num(r) + " exceeds the FTCS limit " + num(kStabilityLimit) +
                ". The largest stable dt is " + num(max_stable_dt()) + "; use dt <= " +
                num(max_stable_dt()) + " (--dt), or --allow-unstable to run anyway");

  for (int a = 0; a < grid.dim; ++a) {
    const bool lo = boundaries.face[a][0].kind == BoundaryKind::periodic;
    const bool hi = boundaries.face[a][1].kind == BoundaryKind::periodic;
    if (lo != hi)
      throw Error("boundary." + face_name(a, lo ? 0 : 1) + " is periodic but boundary." +
                  face_name(a, lo ? 1 : 0) +
                  " is not: a periodic axis needs both faces periodic (set boundary." +
                  axis_name(a) + " = \"periodic\")");
  }
  validate_values();

  if (form == StencilForm::factored && !diffusivity.empty())
    throw Error(
        "form = \"factored\" needs one alpha everywhere, but a diffusivity field is given; a "
        "varying alpha takes the conservative form (leave form out)");
  if (form == StencilForm::factored && !sources.field.empty())
    throw Error(
        "form = \"factored\" has no heat-source field (sources.field); use form = \"expanded\"");
  if (form == StencilForm::factored) {
    const auto rd = fourier_numbers();
    for (int a = 1; a < grid.dim; ++a)
      if (rd[a] != rd[0])
        throw Error("form = \"factored\" needs the same Fourier number on every axis, but r_x = " +
                    num(rd[0]) + " and r_" + axis_name(a) + " = " + num(rd[a]) +
                    " (different h); use form = \"expanded\"");
    if (1.0 - 2.0 * grid.dim * rd[0] == 0.0)
      throw Error(
          "form = \"factored\" divides by its centre weight 1 - 2*dim*r, which is 0 at r = " +
          num(rd[0]) + "; use form = \"expanded\" or a smaller dt");
  }

  for (std::size_t s = 0; s < sources.points.size(); ++s) {
    const PointSource& p = sources.points[s];
    for (int a = 0; a < 3; ++a)
      if (p.at[a] < 0 || p.at[a] >= grid.n[a])
        throw Error("sources.points[" + std::to_string(s) + "].at[" + std::to_string(a) +
                    "] = " + std::to_string(p.at[a]) + " is outside the grid: must be in [0, " +
                    std::to_string(grid.n[a] - 1) + "] (0-based interior index)");
  }
  if (!std::isfinite(sources.volumetric))
    throw Error("sources.volumetric = " + num(sources.volumetric) + " is not finite");
  if (initial.kind == InitialKind::gaussian) require_positive("initial.width", initial.width);
  if (initial.kind == InitialKind::npy && initial.path.empty())
    throw Error("initial.type = \"npy\" needs initial.path, the .npy file to load");
}

}  // namespace calor
