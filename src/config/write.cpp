// A problem as the TOML that the strict reader turns back into it: what a checkpoint carries so
// that `calor run --restart FILE` needs nothing else.

#include <charconv>
#include <string>

#include "calor/config.hpp"

namespace calor {

namespace {

// The shortest text that reads back as exactly `v`.
std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <class T, class F>
std::string array(int count, const T& values, F text) {
  std::string s = "[";
  for (int a = 0; a < count; ++a)
    s += (a ? ", " : "") + text(values[static_cast<std::size_t>(a)]);
  return s + "]";
}

// A value, or its time table.
std::string timed(double value, const TimeTable& t) {
  if (t.empty()) return number(value);
  std::string s = "[";
  for (std::size_t i = 0; i < t.points.size(); ++i)
    s += std::string(i ? ", " : "") + "[" + number(t.points[i].first) + ", " +
         number(t.points[i].second) + "]";
  return s + "]";
}

std::string boundary(const Boundary& b) {
  const std::string v = timed(b.value, b.table);
  switch (b.kind) {
    case BoundaryKind::periodic:
      return "\"periodic\"";
    case BoundaryKind::neumann:
      return "{ type = \"neumann\", gradient = " + v + " }";
    case BoundaryKind::robin:
      return "{ type = \"robin\", h = " + number(b.coefficient) + ", ambient = " + v + " }";
    case BoundaryKind::dirichlet:
      break;
  }
  return "{ type = \"dirichlet\", value = " + v + " }";
}

// The keys of a cell field under `prefix`. An array that came from no file (Python's) cannot be
// written as TOML: it is named in a comment, and a restart must be given it again.
std::string cell_values(const std::string& prefix, const CellValues& v, int dim) {
  auto str = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  };
  auto list = [](const std::vector<double>& x) {
    return array(static_cast<int>(x.size()), x, number);
  };
  switch (v.kind) {
    case CellValuesKind::none:
      return "";
    case CellValuesKind::array:
      if (v.source.empty()) return "# " + prefix + ": an array given in memory (not written)\n";
      if (v.dataset.empty())
        return prefix + ".type = \"npy\"\n" + prefix + ".path = " + str(v.source) + "\n";
      return prefix + ".type = \"hdf5\"\n" + prefix + ".path = " + str(v.source) + "\n" + prefix +
             ".dataset = " + str(v.dataset) + "\n";
    case CellValuesKind::layers:
      return prefix + ".type = \"layers\"\n" + prefix + ".axis = \"" + "xyz"[v.axis] + "\"\n" +
             prefix + ".bounds = " + list(v.bounds) + "\n" + prefix +
             ".values = " + list(v.values) + "\n";
    case CellValuesKind::box:
      return prefix + ".type = \"box\"\n" + prefix + ".lo = " + array(dim, v.lo, number) + "\n" +
             prefix + ".hi = " + array(dim, v.hi, number) + "\n" + prefix +
             ".inside = " + number(v.inside) + "\n";
    case CellValuesKind::sphere:
      return prefix + ".type = \"sphere\"\n" + prefix +
             ".centre = " + array(dim, v.centre, number) + "\n" + prefix +
             ".radius = " + number(v.radius) + "\n" + prefix + ".inside = " + number(v.inside) +
             "\n";
  }
  return "";
}

}  // namespace

std::string problem_toml(const Problem& p) {
  const int dim = p.grid.dim;
  auto integer = [](index_t v) { return std::to_string(v); };
  std::string t = "# " + p.name + ", as a restart reads it back\npreset = \"none\"\n";
  t += "dim = " + std::to_string(dim) + "\n";
  t += "n = " + array(dim, p.grid.n, integer) + "\n";
  t += "h = " + array(dim, p.grid.h, number) + "\n";
  t += "alpha = " + number(p.alpha) + "\ndt = " + number(p.dt) + "\n";
  t += "steps = " + std::to_string(p.steps) + "\n";
  t += std::string("form = \"") + (p.form == StencilForm::factored ? "factored" : "expanded") +
       "\"\n";
  t += std::string("allow_unstable = ") + (p.allow_unstable ? "true" : "false") + "\n";
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      t += "boundary." + face_name(a, s) + " = " + boundary(p.boundaries.face[a][s]) + "\n";
  t += cell_values("diffusivity", p.diffusivity, dim);
  if (!p.diffusivity.empty())
    t += std::string("diffusivity.mean = \"") +
         (p.mean == FaceMean::harmonic ? "harmonic" : "arithmetic") + "\"\n";
  t += "sources.volumetric = " + number(p.sources.volumetric) + "\n";
  t += cell_values("sources.field", p.sources.field, dim);
  t += "sources.points = [";
  for (std::size_t i = 0; i < p.sources.points.size(); ++i) {
    const PointSource& ps = p.sources.points[i];
    t += std::string(i ? ", " : "") + "{ at = " + array(dim, ps.at, integer) +
         ", energy = " + timed(ps.energy, ps.table) + " }";
  }
  return t + "]\n";
}

}  // namespace calor
