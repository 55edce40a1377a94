#include "calor/scheme.hpp"

#include <algorithm>
#include <array>

namespace calor {

Scheme Scheme::from(const Problem& p, const Field& f, const std::array<index_t, 3>& origin,
                    index_t reach) {
  Scheme s;
  s.dim = p.grid.dim;
  s.form = p.form;
  s.coeffs = p.coefficients();
  s.dq = p.sources.volumetric * p.dt;
  for (const PointSource& ps : p.sources.points) {
    std::array<index_t, 3> c{};
    bool inside = true;
    for (int a = 0; a < 3; ++a) {
      c[a] = ps.at[a] - origin[a];
      const index_t r = std::min(reach, f.halo(a));
      inside = inside && c[a] >= -r && c[a] < f.n(a) + r;
    }
    if (inside) s.sources.push_back({f.offset(c[0], c[1], c[2]), ps.energy});
  }
  // Sorted by cell, so that a tile can find its own quickly; stable, so that several sources in
  // one cell are still added in the order given.
  std::stable_sort(s.sources.begin(), s.sources.end(),
                   [](const SourceCell& a, const SourceCell& b) { return a.offset < b.offset; });
  return s;
}

}  // namespace calor
