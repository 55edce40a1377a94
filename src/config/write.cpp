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

std::string boundary(const Boundary& b) {
  switch (b.kind) {
    case BoundaryKind::periodic:
      return "\"periodic\"";
    case BoundaryKind::neumann:
      return "{ type = \"neumann\", gradient = " + number(b.value) + " }";
    case BoundaryKind::dirichlet:
      break;
  }
  return "{ type = \"dirichlet\", value = " + number(b.value) + " }";
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
  t += "sources.volumetric = " + number(p.sources.volumetric) + "\n";
  t += "sources.points = [";
  for (std::size_t i = 0; i < p.sources.points.size(); ++i) {
    const PointSource& ps = p.sources.points[i];
    t += std::string(i ? ", " : "") + "{ at = " + array(dim, ps.at, integer) +
         ", energy = " + number(ps.energy) + " }";
  }
  return t + "]\n";
}

}  // namespace calor
