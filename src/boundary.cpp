#include "calor/boundary.hpp"

#include <string>

namespace calor {

Boundaries Boundaries::all(Boundary b) {
  Boundaries r;
  for (auto& axis : r.face)
    axis = {b, b};
  return r;
}

std::string_view to_string(BoundaryKind k) {
  switch (k) {
    case BoundaryKind::dirichlet:
      return "dirichlet";
    case BoundaryKind::neumann:
      return "neumann";
    case BoundaryKind::periodic:
      return "periodic";
  }
  return "?";
}

std::string describe(const Boundary& b) {
  if (b.kind == BoundaryKind::periodic) return "periodic";
  char buf[64];
  std::snprintf(buf, sizeof buf, "(%g)", b.value);
  return std::string(to_string(b.kind)) + buf;
}

std::string face_name(int axis, int side) {
  static const char* axes[] = {"x", "y", "z"};
  return std::string(axes[axis]) + (side == 0 ? "_low" : "_high");
}

namespace {

// Fills the halo layer of one face. `plane(m)` addresses the cells of layer m along `axis`
// (m = -1 is the low halo, m = n the high halo), iterating over the full extent of the other
// axes, halo included, so that later axes see the corners filled by earlier ones.
void fill_face(const Boundary& b, int axis, int side, const Grid& g, Field& f) {
  const index_t n = f.n(axis);
  const index_t halo_layer = side == 0 ? -1 : n;
  const index_t inner = side == 0 ? 0 : n - 1;     // first interior layer at this face
  const index_t opposite = side == 0 ? n - 1 : 0;  // its periodic image
  const double gh = b.value * g.h[axis];

  // Ranges of the two other axes, including their halos.
  int oa = (axis + 1) % 3, ob = (axis + 2) % 3;
  if (oa > ob) std::swap(oa, ob);
  const index_t a_lo = -f.halo(oa), a_hi = f.n(oa) + f.halo(oa);
  const index_t b_lo = -f.halo(ob), b_hi = f.n(ob) + f.halo(ob);
  auto at = [&](index_t m, index_t ia, index_t ib) -> double& {
    std::array<index_t, 3> c{};
    c[axis] = m;
    c[oa] = ia;
    c[ob] = ib;
    return f(c[0], c[1], c[2]);
  };
  for (index_t ib = b_lo; ib < b_hi; ++ib)
    for (index_t ia = a_lo; ia < a_hi; ++ia) {
      double& ghost = at(halo_layer, ia, ib);
      switch (b.kind) {
        case BoundaryKind::dirichlet:
          ghost = b.value;
          break;
        case BoundaryKind::neumann:
          ghost = at(inner, ia, ib) + gh;
          break;
        case BoundaryKind::periodic:
          ghost = at(opposite, ia, ib);
          break;
      }
    }
}

}  // namespace

void fill_halo(const Boundaries& bc, const Grid& grid, Field& f) {
  for (int axis = 0; axis < grid.dim; ++axis)
    for (int side = 0; side < 2; ++side)
      fill_face(bc.face[axis][side], axis, side, grid, f);
}

}  // namespace calor
