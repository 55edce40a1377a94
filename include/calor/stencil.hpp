#pragma once
/// \file stencil.hpp
/// The FTCS update of one cell, written once. Every backend (and the CUDA kernel) calls these
/// functions, so every backend performs the same operations in the same order: results agree
/// bit for bit across backends, thread counts and MPI rank counts.

#include <array>
#include <cstddef>

#include "calor/grid.hpp"

#if defined(__CUDACC__)
#define CALOR_HD __host__ __device__
#else
#define CALOR_HD
#endif

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
};

/// The coefficients of the update, derived from the Fourier numbers r_d = alpha dt / h_d^2.
struct Coefficients {
  double c0 = 0;                     ///< centre weight (see StencilForm)
  double c1 = 0;                     ///< neighbour-sum weight of the factored form
  std::array<double, 3> r{0, 0, 0};  ///< per-axis Fourier numbers (expanded form)
};

/// The coefficients as values of type T: double for scalar code, a SIMD vector for vector code.
template <class T>
struct Weights {
  T c0, c1, rx, ry, rz;
  CALOR_HD static Weights from(const Coefficients& k) {
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

/// New value of the cell at `u` (a pointer into a field with strides sy, sz), plus the volumetric
/// increment `dq` when Volumetric, added last.
template <int Dim, StencilForm Form, bool Volumetric>
CALOR_HD inline double cell_update(const Weights<double>& w, const double* u, index_t sy,
                                   index_t sz, double dq) {
  const double ym = Dim >= 2 ? u[-sy] : 0.0, yp = Dim >= 2 ? u[sy] : 0.0;
  const double zm = Dim >= 3 ? u[-sz] : 0.0, zp = Dim >= 3 ? u[sz] : 0.0;
  const double v = combine<Dim, Form>(w, u[0], u[-1], u[1], ym, yp, zm, zp);
  if constexpr (Volumetric) {
    return v + dq;
  } else {
    (void)dq;
    return v;
  }
}

}  // namespace calor
