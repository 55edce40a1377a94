#include "calor/scheme.hpp"

#include <algorithm>
#include <array>

namespace calor {

namespace {

// The alpha of every cell's face towards +axis, over the whole field but its last layer along
// axis (which has no neighbour there): what the conservative forms read instead of dividing.
std::shared_ptr<const Field> face_alphas(const Field& alpha, int axis, FaceMean mean) {
  auto f = std::make_shared<Field>(alpha.grid(), alpha.halo(), alpha.space());
  const index_t step = axis == 0 ? 1 : axis == 1 ? alpha.stride_y() : alpha.stride_z();
  std::array<index_t, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = -alpha.halo(a);
    hi[a] = alpha.n(a) + alpha.halo(a) - (a == axis ? 1 : 0);
  }
  const double* in = alpha.raw();
  double* out = f->raw();
  for (index_t k = lo[2]; k < hi[2]; ++k)
    for (index_t j = lo[1]; j < hi[1]; ++j)
      for (index_t i = lo[0]; i < hi[0]; ++i) {
        const index_t c = alpha.offset(i, j, k);
        out[c] = face_alpha(mean, in[c], in[c + step]);
      }
  return f;
}

}  // namespace

Scheme Scheme::from(const Problem& p, const Field& f, const std::array<index_t, 3>& origin,
                    index_t reach) {
  Scheme s;
  s.dim = p.grid.dim;
  s.form = p.form;
  s.dq = p.sources.volumetric * p.dt;
  s.heating = s.dq != 0.0 ? Heating::uniform : Heating::none;
  const std::array<bool, 3> periodic{p.boundaries.periodic(0), p.boundaries.periodic(1),
                                     p.boundaries.periodic(2)};
  if (!p.diffusivity.empty()) {
    // alpha comes per face: the weights are dt / h^2 (alpha = 1 in the Fourier numbers).
    s.form = StencilForm::conservative;
    for (int a = 0; a < 3; ++a)
      s.coeffs.r[a] = a < p.grid.dim ? p.dt / (p.grid.h[a] * p.grid.h[a]) : 0.0;
    // The scheme's fields are host data, filled here; a device backend copies what it reads.
    auto alpha = std::make_shared<Field>(f.grid(), f.halo());
    fill_cell_values(p.diffusivity, p.alpha, *alpha, p.grid, origin, periodic);
    for (int a = 0; a < p.grid.dim; ++a)
      s.face[a] = face_alphas(*alpha, a, p.mean);
    s.alpha = std::move(alpha);
  } else {
    s.coeffs = p.coefficients();
  }
  // The conservative kernel adds heat only from a field (fewer kernels to compile): a uniform
  // rate becomes a field of it, the same increment in every cell, so the same bits.
  if (!p.sources.field.empty() || (s.form == StencilForm::conservative && s.dq != 0.0)) {
    auto heat = std::make_shared<Field>(f.grid(), f.halo());
    fill_cell_values(p.sources.field, 0.0, *heat, p.grid, origin, periodic);
    // One increment per cell, (q(x) + volumetric) dt, added as the uniform one is.
    double* q = heat->raw();
    for (index_t c = 0; c < heat->size(); ++c)
      q[c] = (q[c] + p.sources.volumetric) * p.dt;
    s.heating = Heating::field;
    s.heat = std::move(heat);
  }
  // On a periodic axis a source also has images one period away, which a widened halo can hold.
  std::array<int, 3> images{0, 0, 0};
  for (int a = 0; a < p.grid.dim; ++a)
    images[a] = p.boundaries.periodic(a) && reach > 0 ? 1 : 0;
  for (std::size_t index = 0; index < p.sources.points.size(); ++index) {
    const PointSource& ps = p.sources.points[index];
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
          if (inside)
            s.sources.push_back({f.offset(c[0], c[1], c[2]), ps.energy, static_cast<int>(index)});
        }
  }
  // Sorted by cell, so that a tile can find its own quickly; stable, so that several sources in
  // one cell are still added in the order given.
  std::stable_sort(s.sources.begin(), s.sources.end(),
                   [](const SourceCell& a, const SourceCell& b) { return a.offset < b.offset; });
  return s;
}

}  // namespace calor
