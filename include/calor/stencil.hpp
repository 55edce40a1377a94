#pragma once
/// \file stencil.hpp
/// The FTCS update of one cell, written once. Every backend (and the CUDA kernel) calls these
/// functions, so every backend performs the same operations in the same order: results agree
/// bit for bit across backends, thread counts and MPI rank counts.

#include <array>
#include <cstddef>

#include "calor/grid.hpp"
#include "calor/hd.hpp"

namespace calor {

/// How the FTCS update is evaluated. Both are the same scheme, u' = u + sum_d r_d (u_{-d} - 2u +
/// u_{+d}), rounded differently.
enum class StencilForm {
  /// u' = c0*u + (r_x (xm + xp) + r_y (ym + yp) + r_z (zm + zp)), c0 = 1 - 2 sum r_d.
  /// Any Fourier numbers; the textbook form of the 1D teaching example.
  expanded,
  /// u' = c0 * (u + c1 * (xm + xp + ym + yp + zm + zp)), c0 = 1 - 2 D r, c1 = r / c0.
  /// Needs equal Fourier numbers on all axes and c0 != 0. With r = 1/8 in 2D this is the case
  /// study's 0.5 * (u + 0.25 * (...)), summed left to right, exactly.
  factored,
  /// Variable alpha, conservative: u' = u + sum_d r_d (a_{+d} (u_{+d} - u) - a_{-d} (u - u_{-d})),
  /// r_d = dt / h_d^2, a_{+-d} the alpha of each face (a FaceMean of the two cells', computed
  /// once, before the steps).
  conservative,
};

/// How the alpha of a face between two cells comes from theirs.
enum class FaceMean {
  harmonic,    ///< 2 a b / (a + b): the series conductance, right at a material interface
  arithmetic,  ///< (a + b) / 2
};

/// The alpha of the face between cells with a and b. Symmetric bit for bit (f(a, b) == f(b, a)),
/// so both cells of a face compute the same flux and the sum of all cells is conserved.
CALOR_HD inline double face_alpha(FaceMean mean, double a, double b) {
  if (mean == FaceMean::harmonic) {
    const double p = a * b;
    return (p + p) / (a + b);
  }
  return 0.5 * (a + b);
}

/// True for the variable-alpha form.
CALOR_HD constexpr bool is_conservative(StencilForm f) {
  return f == StencilForm::conservative;
}

/// The coefficients of the update, derived from the Fourier numbers r_d = alpha dt / h_d^2 (for
/// the conservative forms r_d = dt / h_d^2: alpha comes per face).
struct Coefficients {
  double c0 = 0;                     ///< centre weight (see StencilForm)
  double c1 = 0;                     ///< neighbour-sum weight of the factored form
  std::array<double, 3> r{0, 0, 0};  ///< per-axis Fourier numbers (expanded form)
};

/// The coefficients as values of type T: double for scalar code, a SIMD vector for vector code.
template <class T>
struct Weights {
  T c0, c1, rx, ry, rz;
  static Weights from(const Coefficients& k) {  // on the host; kernels get the result
    return Weights{T{} + k.c0, T{} + k.c1, T{} + k.r[0], T{} + k.r[1], T{} + k.r[2]};
  }
};

/// The update of one cell (or one vector of cells) from its value `u` and its neighbours, without
/// sources. T is double or a SIMD vector type with elementwise + and *; both perform the same
/// operations in the same order, so scalar and vector code agree bit for bit. Neighbours of
/// inactive axes are ignored.
template <int Dim, StencilForm Form, class T>
CALOR_HD inline T combine(const Weights<T>& w, T u, T xm, T xp, T ym, T yp, T zm, T zp) {
  if constexpr (Form == StencilForm::factored) {
    T s = xm + xp;
    if constexpr (Dim >= 2) s = s + ym + yp;
    if constexpr (Dim >= 3) s = s + zm + zp;
    return w.c0 * (u + w.c1 * s);
  } else {
    T s = w.rx * (xm + xp);
    if constexpr (Dim >= 2) s = s + w.ry * (ym + yp);
    if constexpr (Dim >= 3) s = s + w.rz * (zm + zp);
    return w.c0 * u + s;
  }
}

/// The flux difference along one axis, a_p (up - u) - a_m (u - um), from the face alphas.
template <class T>
CALOR_HD inline T axis_flux(T u, T um, T up, T am, T ap) {
  return ap * (up - u) - am * (u - um);
}

/// The conservative update of one cell (or vector of cells) from its value `u`, its neighbours
/// and the alphas of its faces (xa = face towards x - 1, xb = towards x + 1, ...), without
/// sources: u + (r_x flux_x + r_y flux_y + r_z flux_z), summed in that order.
template <int Dim, class T>
CALOR_HD inline T combine_conservative(const Weights<T>& w, T u, T xm, T xp, T ym, T yp, T zm, T zp,
                                       T xa, T xb, T ya, T yb, T za, T zb) {
  T s = w.rx * axis_flux(u, xm, xp, xa, xb);
  if constexpr (Dim >= 2) s = s + w.ry * axis_flux(u, ym, yp, ya, yb);
  if constexpr (Dim >= 3) s = s + w.rz * axis_flux(u, zm, zp, za, zb);
  return u + s;
}

/// How a step adds heat sources spread over the cells (point sources are added after it).
enum class Heating {
  none,     ///< no volumetric term
  uniform,  ///< the same dq in every cell
  field,    ///< dq per cell, from a field laid out as u
};

/// The face alphas of a cell for the conservative forms: k[d] points at the cell in a field
/// (laid out as u) whose value is face_alpha of the cell and its neighbour at +d. Precomputed
/// once, so a step does no division; the cell's face towards -d is k[d][-stride_d].
struct FacePointers {
  const double* k[3] = {nullptr, nullptr, nullptr};
};

/// The volumetric increment added last: none, `dq`, or `*q` (a field's value at the cell).
template <Heating Heat>
CALOR_HD inline double heated(double v, double dq, const double* q) {
  if constexpr (Heat == Heating::uniform) return v + dq;
  if constexpr (Heat == Heating::field) return v + *q;
  (void)dq;
  (void)q;
  return v;
}

/// cell_update of a non-conservative form with the cell's value `u0` and its neighbours along y
/// given (a GPU thread walking down a column holds them in registers); its neighbours along x
/// and z are read through `u`, which points at the cell. The same operations in the same order.
template <int Dim, StencilForm Form, Heating Heat>
CALOR_HD inline double cell_update_column(const Weights<double>& w, const double* u, double u0,
                                          double ym, double yp, index_t sz, double dq,
                                          const double* q = nullptr) {
  static_assert(!is_conservative(Form), "the conservative forms read face alphas too");
  const double zm = Dim >= 3 ? u[-sz] : 0.0, zp = Dim >= 3 ? u[sz] : 0.0;
  return heated<Heat>(combine<Dim, Form>(w, u0, u[-1], u[1], ym, yp, zm, zp), dq, q);
}

/// New value of the cell at `u` (a pointer into a field with strides sy, sz), plus the volumetric
/// increment (`dq`, or `*q` for a field), added last. The conservative forms read the cell's
/// face alphas through `f`.
template <int Dim, StencilForm Form, Heating Heat>
CALOR_HD inline double cell_update(const Weights<double>& w, const double* u, index_t sy,
                                   index_t sz, double dq, const FacePointers& f = {},
                                   const double* q = nullptr) {
  const double ym = Dim >= 2 ? u[-sy] : 0.0, yp = Dim >= 2 ? u[sy] : 0.0;
  if constexpr (is_conservative(Form)) {
    const double zm = Dim >= 3 ? u[-sz] : 0.0, zp = Dim >= 3 ? u[sz] : 0.0;
    const double ya = Dim >= 2 ? f.k[1][-sy] : 0.0, yb = Dim >= 2 ? f.k[1][0] : 0.0;
    const double za = Dim >= 3 ? f.k[2][-sz] : 0.0, zb = Dim >= 3 ? f.k[2][0] : 0.0;
    return heated<Heat>(combine_conservative<Dim>(w, u[0], u[-1], u[1], ym, yp, zm, zp, f.k[0][-1],
                                                  f.k[0][0], ya, yb, za, zb),
                        dq, q);
  } else {
    (void)f;
    return cell_update_column<Dim, Form, Heat>(w, u, u[0], ym, yp, sz, dq, q);
  }
}

}  // namespace calor
