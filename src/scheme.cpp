#include "calor/scheme.hpp"

#include <algorithm>

namespace calor {

Scheme Scheme::from(const Problem& p, const Field& f) {
  Scheme s;
  s.dim = p.grid.dim;
  s.form = p.form;
  s.coeffs = p.coefficients();
  s.dq = p.sources.volumetric * p.dt;
  for (const PointSource& ps : p.sources.points) {
    bool inside = true;
    for (int a = 0; a < 3; ++a)
      inside = inside && ps.at[a] >= 0 && ps.at[a] < f.n(a);
    if (inside) s.sources.push_back({f.offset(ps.at[0], ps.at[1], ps.at[2]), ps.energy});
  }
  // Sorted by cell, so that a tile can find its own quickly; stable, so that several sources in
  // one cell are still added in the order given.
  std::stable_sort(s.sources.begin(), s.sources.end(),
                   [](const SourceCell& a, const SourceCell& b) { return a.offset < b.offset; });
  return s;
}

}  // namespace calor
