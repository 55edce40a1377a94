#pragma once
/// \file boundary.hpp
/// Boundary conditions, one per face, realised by filling the halo layer before each step.

#include <array>
#include <string>
#include <string_view>

#include "calor/field.hpp"
#include "calor/hd.hpp"
#include "calor/table.hpp"

namespace calor {

/// What a face does to the heat next to it.
enum class BoundaryKind {
  dirichlet,  ///< the halo holds a fixed value (the boundary node sits in the halo)
  neumann,    ///< fixed outward normal gradient: halo = first interior cell + gradient * h
  periodic,   ///< the halo is a copy of the opposite side's interior
  /// convective: -alpha du/dn = coefficient (u - value), u at the face midway between the first
  /// interior cell and the halo; value is the ambient temperature u_inf
  robin,
};

/// One face's condition. `value` is the fixed temperature (Dirichlet), the outward normal
/// gradient du/dn (Neumann, 0 = insulated) or the ambient temperature (Robin); periodic ignores
/// it. A non-empty `table` makes the value a function of time (replacing `value`).
struct Boundary {
  BoundaryKind kind = BoundaryKind::dirichlet;
  double value = 0.0;
  double coefficient = 0.0;  ///< robin: the heat transfer coefficient h (>= 0)
  TimeTable table;           ///< value over time, if it changes

  /// The value at time `t`.
  [[nodiscard]] double value_at(double t) const { return table.empty() ? value : table.at(t); }
};

/// Conditions of all faces: face[axis][0] is the low side, face[axis][1] the high side.
struct Boundaries {
  std::array<std::array<Boundary, 2>, 3> face{};

  /// The same condition on every face.
  static Boundaries all(Boundary b);
  /// True when a face's value follows a time table.
  [[nodiscard]] bool time_dependent() const;
  /// These conditions with every table's value at time `t` in `value` (and no tables).
  [[nodiscard]] Boundaries at(double t) const;
  /// True when both faces of `axis` are periodic.
  [[nodiscard]] bool periodic(int axis) const {
    return face[axis][0].kind == BoundaryKind::periodic;
  }
};

/// The diffusivity a Robin face divides its coefficient by: the cell field (same layout as the
/// field whose halo is filled) where alpha varies, else the constant.
struct Conductivity {
  double constant = 1.0;
  const Field* field = nullptr;
};

/// "dirichlet", "neumann", "periodic" or "robin".
std::string_view to_string(BoundaryKind k);
/// Human description of a face condition, e.g. "dirichlet(0)".
std::string describe(const Boundary& b);
/// "x_low", "y_high", ... the config key of a face.
std::string face_name(int axis, int side);

/// The halo value of a Neumann face from the cell next to it, `gh` = gradient * h.
CALOR_HD inline double neumann_halo(double cell, double gh) {
  return cell + gh;
}

/// The halo value of a Robin face, -alpha (u_halo - u_c) / h = H ((u_halo + u_c) / 2 - u_inf)
/// solved for u_halo, with beta = H h / alpha: exact for a linear profile, so a 1D steady
/// state is reproduced exactly.
CALOR_HD inline double robin_halo(double cell, double beta, double ambient) {
  return ((1.0 - 0.5 * beta) * cell + beta * ambient) / (1.0 + 0.5 * beta);
}

/// Fills the halo of `f` from its interior according to `bc`: the first layer of Dirichlet and
/// Neumann faces, every layer of periodic ones. Axes are filled in order x, y, z over the full
/// extent of the others, so corners are consistent for periodic domains.
void fill_halo(const Boundaries& bc, const Grid& grid, Field& f, const Conductivity& k = {});

/// Fills the halo of one face, (axis, side), over the full extent of the other axes.
void fill_halo_face(const Boundaries& bc, const Grid& grid, Field& f, int axis, int side,
                    const Conductivity& k = {});

/// Fills what a temporally blocked sweep needs after computing slab `slab` (index along the
/// outermost active axis, possibly in the halo): the halo of that slab on the inner axes' faces,
/// and the outer face's halo slab when `slab` is the first or last interior one; only faces where
/// `physical[axis][side]` is true.
void fill_physical_slab(const Boundaries& bc, const Grid& grid, Field& f, index_t slab,
                        const std::array<std::array<bool, 2>, 3>& physical,
                        const Conductivity& k = {});

/// Fills what a temporally blocked sweep needs after computing the cells [lo[a], hi[a]) of each
/// axis a (possibly reaching into the halo of exchanged faces): for every face where
/// `physical[axis][side]` is true and whose first interior layer the box holds, the halo cells
/// next to the box's cells in that layer.
void fill_physical_box(const Boundaries& bc, const Grid& grid, Field& f,
                       const std::array<std::array<index_t, 2>, 3>& box,
                       const std::array<std::array<bool, 2>, 3>& physical,
                       const Conductivity& k = {});

/// Fills the physical faces' halo cells next to the x-rows [lo, hi), rows counted over (j, k)
/// as j + k * n[1]: each row's two x-halo cells, the y-halo cells beside rows j = 0 and
/// n[1] - 1, the z-halo cells beside rows of planes k = 0 and n[2] - 1; only faces where
/// `physical[axis][side]` is true (a periodic face marked so is copied from the opposite
/// interior layer, as fill_halo does). Edges and corners, which a star stencil never reads, are
/// left alone: threads that each fill their own rows' halo this way read only what they filled.
void fill_physical_rows(const Boundaries& bc, const Grid& grid, Field& f, index_t lo, index_t hi,
                        const std::array<std::array<bool, 2>, 3>& physical,
                        const Conductivity& k = {});

}  // namespace calor
