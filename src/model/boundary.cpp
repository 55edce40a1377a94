#include "calor/boundary.hpp"

#include <algorithm>
#include <string>

#include "calor/error.hpp"
#include "calor/halo.hpp"

namespace calor {

Boundaries Boundaries::all(Boundary b) {
  Boundaries r;
  for (auto& axis : r.face)
    axis = {b, b};
  return r;
}

bool Boundaries::time_dependent() const {
  for (const auto& axis : face)
    for (const Boundary& b : axis)
      if (!b.table.empty()) return true;
  return false;
}

Boundaries Boundaries::at(double t) const {
  Boundaries r = *this;
  for (auto& axis : r.face)
    for (Boundary& b : axis) {
      b.value = b.value_at(t);
      b.table = {};
    }
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
    case BoundaryKind::robin:
      return "robin";
  }
  return "?";
}

std::string describe(const Boundary& b) {
  if (b.kind == BoundaryKind::periodic) return "periodic";
  char buf[96];
  if (b.kind == BoundaryKind::robin)
    std::snprintf(buf, sizeof buf, "(h %g, ambient %g%s)", b.coefficient, b.value,
                  b.table.empty() ? "" : " at t = 0, from a table");
  else
    std::snprintf(buf, sizeof buf, "(%g%s)", b.value,
                  b.table.empty() ? "" : " at t = 0, from a table");
  return std::string(to_string(b.kind)) + buf;
}

std::string face_name(int axis, int side) {
  static const char* axes[] = {"x", "y", "z"};
  return std::string(axes[axis]) + (side == 0 ? "_low" : "_high");
}

namespace {

using Ranges = std::array<std::array<index_t, 2>, 3>;  // [lo, hi) per axis

// The whole extent of every axis, halo included.
Ranges full_ranges(const Field& f) {
  Ranges r{};
  for (int a = 0; a < 3; ++a)
    r[a] = {-f.halo(a), f.n(a) + f.halo(a)};
  return r;
}

// Fills the halo layer of face (axis, side) at the positions of the two other axes given by
// `range`. Filling over the full extent of the other axes, halo included, makes corners consistent
// for periodic domains when the axes are filled in order.
void fill_face(const Boundary& b, int axis, int side, const Grid& g, Field& f, const Ranges& range,
               const Conductivity& cond) {
  const index_t n = f.n(axis);
  const index_t halo_layer = side == 0 ? -1 : n;
  const index_t inner = side == 0 ? 0 : n - 1;     // first interior layer at this face
  const index_t opposite = side == 0 ? n - 1 : 0;  // its periodic image
  const double gh = b.value * g.h[axis];
  const index_t step = axis == 0 ? 1 : axis == 1 ? f.stride_y() : f.stride_z();
  const index_t to_halo = (halo_layer - inner) * step, to_opposite = (opposite - inner) * step;
  double* u = f.raw();
  std::array<index_t, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = a == axis ? inner : range[a][0];
    hi[a] = a == axis ? inner + 1 : range[a][1];
  }
  // Periodic faces copy every halo layer (a wide halo lets a backend take several steps); the
  // other kinds only the first, the only one a single step reads.
  const index_t layers = b.kind == BoundaryKind::periodic ? f.halo(axis) : 1;
  // The kind is chosen once per face, not per cell: in cache, the halo refill of every step
  // was 7% of a small grid's time with the switch inside the loop.
  auto each = [&](index_t m, auto&& set) {
    const index_t shift = (side == 0 ? -m : m) * step;
    for (index_t k = lo[2]; k < hi[2]; ++k)
      for (index_t j = lo[1]; j < hi[1]; ++j) {
        const index_t c0 = f.offset(0, j, k);
        for (index_t i = lo[0]; i < hi[0]; ++i)
          set(c0 + i, shift);
      }
  };
  switch (b.kind) {
    case BoundaryKind::dirichlet:
      each(0, [&](index_t c, index_t) { u[c + to_halo] = b.value; });
      return;
    case BoundaryKind::neumann:
      each(0, [&](index_t c, index_t) { u[c + to_halo] = neumann_halo(u[c], gh); });
      return;
    case BoundaryKind::periodic:
      for (index_t m = 0; m < layers; ++m)
        each(m, [&](index_t c, index_t shift) {
          u[c + to_halo + shift] = u[c + to_opposite + shift];
        });
      return;
    case BoundaryKind::robin:
      each(0, [&](index_t c, index_t) {
        const double alpha = cond.field != nullptr ? cond.field->raw()[c] : cond.constant;
        u[c + to_halo] = robin_halo(u[c], b.coefficient * g.h[axis] / alpha, b.value);
      });
      return;
  }
}

}  // namespace

void fill_halo(const Boundaries& bc, const Grid& grid, Field& f, const Conductivity& k) {
  const Ranges r = full_ranges(f);
  for (int axis = 0; axis < grid.dim; ++axis)
    for (int side = 0; side < 2; ++side)
      fill_face(bc.face[axis][side], axis, side, grid, f, r, k);
}

void fill_physical_box(const Boundaries& bc, const Grid& grid, Field& f, const Ranges& box,
                       const std::array<std::array<bool, 2>, 3>& physical, const Conductivity& k) {
  for (int axis = 0; axis < grid.dim; ++axis)
    for (int side = 0; side < 2; ++side) {
      const index_t inner = side == 0 ? 0 : grid.n[axis] - 1;
      if (physical[axis][side] && box[axis][0] <= inner && inner < box[axis][1])
        fill_face(bc.face[axis][side], axis, side, grid, f, box, k);
    }
}

void fill_physical_slab(const Boundaries& bc, const Grid& grid, Field& f, index_t slab,
                        const std::array<std::array<bool, 2>, 3>& physical, const Conductivity& k) {
  // The box of the slab: the inner axes whole, halo included.
  Ranges r = full_ranges(f);
  r[grid.dim - 1] = {slab, slab + 1};
  fill_physical_box(bc, grid, f, r, physical, k);
}

void fill_physical_rows(const Boundaries& bc, const Grid& grid, Field& f, index_t lo, index_t hi,
                        const std::array<std::array<bool, 2>, 3>& physical, const Conductivity& k) {
  const index_t ny = grid.n[1];
  // At most three boxes: the rest of the first plane, the whole planes, the start of the last.
  while (lo < hi) {
    const index_t plane = lo / ny, j = lo % ny;
    const index_t whole = j == 0 ? (hi - lo) / ny : 0;
    Ranges box{};
    box[0] = {0, grid.n[0]};
    box[1] = whole > 0 ? std::array<index_t, 2>{0, ny} : std::array{j, std::min(ny, j + hi - lo)};
    box[2] = {plane, plane + std::max<index_t>(whole, 1)};
    fill_physical_box(bc, grid, f, box, physical, k);
    lo += whole > 0 ? whole * ny : box[1][1] - j;
  }
}

void fill_halo_face(const Boundaries& bc, const Grid& grid, Field& f, int axis, int side,
                    const Conductivity& k) {
  fill_face(bc.face[axis][side], axis, side, grid, f, full_ranges(f), k);
}

void Halo::begin_layers(const LayerBuffers& /*b*/) {
  throw Error("this halo sends no packed layers: only an MPI domain's halo does (sends_layers())");
}

}  // namespace calor
