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
  // On a periodic axis a source also has images one period away, which a widened halo can hold.
  std::array<int, 3> images{0, 0, 0};
  for (int a = 0; a < p.grid.dim; ++a)
    images[a] = p.boundaries.periodic(a) && reach > 0 ? 1 : 0;
  for (const PointSource& ps : p.sources.points)
    for (int mz = -images[2]; mz <= images[2]; ++mz)
      for (int my = -images[1]; my <= images[1]; ++my)
        for (int mx = -images[0]; mx <= images[0]; ++mx) {
          const std::array<int, 3> m{mx, my, mz};
          std::array<index_t, 3> c{};
          bool inside = true;
          for (int a = 0; a < 3; ++a) {
            c[a] = ps.at[a] + m[a] * p.grid.n[a] - origin[a];
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
