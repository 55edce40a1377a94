#include "calor/cell_values.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "calor/error.hpp"
#include "calor/initial.hpp"
#include "calor/npy.hpp"

namespace calor {

namespace {

const char* axis_name(int a) {
  return a == 0 ? "x" : a == 1 ? "y" : "z";
}

std::string cell_name(const Grid& g, const std::array<index_t, 3>& c) {
  std::string s = "cell (";
  for (int a = 0; a < g.dim; ++a)
    s += (a ? ", " : "") + std::to_string(c[a]);
  return s + ")";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Index of cell c along an axis of n cells for a halo position: wrapped or clamped.
index_t source_index(index_t c, index_t n, bool periodic) {
  if (periodic) return ((c % n) + n) % n;
  return std::clamp<index_t>(c, 0, n - 1);
}

}  // namespace

double CellValues::at(const Grid& g, const std::array<index_t, 3>& c, double background) const {
  auto x = [&](int a) { return cell_coordinate(g, a, c[a]); };
  switch (kind) {
    case CellValuesKind::none:
      return background;
    case CellValuesKind::array:
      return (*data)[static_cast<std::size_t>(c[0] + g.n[0] * (c[1] + g.n[1] * c[2]))];
    case CellValuesKind::layers: {
      const double p = x(axis);
      const auto l = std::upper_bound(bounds.begin(), bounds.end(), p) - bounds.begin();
      return values[static_cast<std::size_t>(l)];
    }
    case CellValuesKind::box:
      for (int a = 0; a < g.dim; ++a)
        if (!(x(a) >= lo[a] && x(a) < hi[a])) return background;
      return inside;
    case CellValuesKind::sphere: {
      double r2 = 0;
      for (int a = 0; a < g.dim; ++a)
        r2 += (x(a) - centre[a]) * (x(a) - centre[a]);
      return r2 <= radius * radius ? inside : background;
    }
  }
  return background;
}

void CellValues::validate(const std::string& key, const Grid& g) const {
  switch (kind) {
    case CellValuesKind::none:
      return;
    case CellValuesKind::array: {
      const auto want = static_cast<std::size_t>(g.cells());
      if (!data || data->size() != want)
        throw Error(key + (source.empty() ? "" : " ('" + source + "')") + " has " +
                    std::to_string(data ? data->size() : 0) + " values; the grid has " +
                    std::to_string(want) + " cells: give an array of shape " +
                    shape_text(numpy_shape(g)) + " (NumPy order: z, y, x)");
      return;
    }
    case CellValuesKind::layers:
      if (axis < 0 || axis >= g.dim)
        throw Error(key + ".axis = " + std::to_string(axis) + " is not an axis of a " +
                    std::to_string(g.dim) + "D grid: use 0 (x) to " + std::to_string(g.dim - 1));
      if (values.size() != bounds.size() + 1)
        throw Error(key + " has " + std::to_string(bounds.size()) + " bounds and " +
                    std::to_string(values.size()) + " values: n bounds cut " +
                    std::string(axis_name(axis)) + " into n + 1 layers, one value each");
      for (std::size_t l = 1; l < bounds.size(); ++l)
        if (!(bounds[l] > bounds[l - 1]))
          throw Error(key + ".bounds must increase, but bounds[" + std::to_string(l) +
                      "] = " + num(bounds[l]) + " follows " + num(bounds[l - 1]));
      return;
    case CellValuesKind::box:
      for (int a = 0; a < g.dim; ++a)
        if (!(hi[a] > lo[a]))
          throw Error(key + ": the box's hi along " + axis_name(a) + " (" + num(hi[a]) +
                      ") must exceed its lo (" + num(lo[a]) + ")");
      return;
    case CellValuesKind::sphere:
      if (!(radius > 0) || !std::isfinite(radius))
        throw Error(key + ".radius = " + num(radius) + ": must be a positive finite number");
      return;
  }
}

void CellValues::require_values(const std::string& key, const Grid& g, double background,
                                bool positive) const {
  if (empty()) return;
  std::array<index_t, 3> c{};
  for (c[2] = 0; c[2] < g.n[2]; ++c[2])
    for (c[1] = 0; c[1] < g.n[1]; ++c[1])
      for (c[0] = 0; c[0] < g.n[0]; ++c[0]) {
        const double v = at(g, c, background);
        if (std::isfinite(v) && (!positive || v > 0)) continue;
        throw Error(key + (source.empty() ? "" : " ('" + source + "')") + " is " + num(v) + " at " +
                    cell_name(g, c) + ": " +
                    (positive ? "a diffusivity must be positive and finite in every cell"
                              : "a source rate must be finite in every cell"));
      }
}

double CellValues::max(const Grid& g, double background) const {
  double m = -INFINITY;
  std::array<index_t, 3> c{};
  for (c[2] = 0; c[2] < g.n[2]; ++c[2])
    for (c[1] = 0; c[1] < g.n[1]; ++c[1])
      for (c[0] = 0; c[0] < g.n[0]; ++c[0])
        m = std::max(m, at(g, c, background));
  return m;
}

std::string describe(const CellValues& v, double background) {
  auto g = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", x);
    return std::string(b);
  };
  switch (v.kind) {
    case CellValuesKind::none:
      return "";
    case CellValuesKind::array: {
      double lo = INFINITY, hi = -INFINITY;
      std::uint64_t sum = 0;
      for (double x : *v.data) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        std::uint64_t bits;
        std::memcpy(&bits, &x, sizeof bits);
        sum = sum * 1099511628211ULL + bits;
      }
      char b[64];
      std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(sum));
      return "an array" + (v.source.empty() ? std::string() : " from " + v.source) +
             (v.dataset.empty() ? "" : ":" + v.dataset) + ", " + g(lo) + " to " + g(hi) +
             " (checksum " + b + ")";
    }
    case CellValuesKind::layers: {
      std::string s = std::string("layers along ") + axis_name(v.axis) + ": " + g(v.values[0]);
      for (std::size_t l = 0; l < v.bounds.size(); ++l)
        s += " | " + g(v.bounds[l]) + " | " + g(v.values[l + 1]);
      return s;
    }
    case CellValuesKind::box:
      return "a box of " + g(v.inside) + " from (" + g(v.lo[0]) + ", " + g(v.lo[1]) + ", " +
             g(v.lo[2]) + ") to (" + g(v.hi[0]) + ", " + g(v.hi[1]) + ", " + g(v.hi[2]) + ") in " +
             g(background);
    case CellValuesKind::sphere:
      return "a sphere of " + g(v.inside) + ", radius " + g(v.radius) + " at (" + g(v.centre[0]) +
             ", " + g(v.centre[1]) + ", " + g(v.centre[2]) + ") in " + g(background);
  }
  return "";
}

void fill_cell_values(const CellValues& v, double background, Field& f, const Grid& global,
                      const std::array<index_t, 3>& origin, const std::array<bool, 3>& periodic) {
  std::array<index_t, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = -f.halo(a);
    hi[a] = f.n(a) + f.halo(a);
  }
  for (index_t k = lo[2]; k < hi[2]; ++k)
    for (index_t j = lo[1]; j < hi[1]; ++j)
      for (index_t i = lo[0]; i < hi[0]; ++i) {
        const std::array<index_t, 3> local{i, j, k};
        std::array<index_t, 3> c{};
        for (int a = 0; a < 3; ++a)
          c[a] = source_index(local[a] + origin[a], global.n[a], periodic[a]);
        f(i, j, k) = v.at(global, c, background);
      }
}

}  // namespace calor
