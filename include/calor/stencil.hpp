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

/// New value of the cell at `u` (a pointer into a field with strides sy, sz), without sources.
template <int Dim, StencilForm Form>
CALOR_HD inline double stencil_update(const Coefficients& k, const double* u, index_t sy,
                                      index_t sz) {
  if constexpr (Form == StencilForm::factored) {
    double s = u[-1] + u[1];
    if constexpr (Dim >= 2) s = s + u[-sy] + u[sy];
    if constexpr (Dim >= 3) s = s + u[-sz] + u[sz];
    return k.c0 * (u[0] + k.c1 * s);
  } else {
    double s = k.r[0] * (u[-1] + u[1]);
    if constexpr (Dim >= 2) s = s + k.r[1] * (u[-sy] + u[sy]);
    if constexpr (Dim >= 3) s = s + k.r[2] * (u[-sz] + u[sz]);
    return k.c0 * u[0] + s;
  }
}

/// New value including the constant volumetric source increment `dq` (= rate * dt), added last.
template <int Dim, StencilForm Form, bool Volumetric>
CALOR_HD inline double cell_update(const Coefficients& k, const double* u, index_t sy, index_t sz,
                                   double dq) {
  const double v = stencil_update<Dim, Form>(k, u, sy, sz);
  if constexpr (Volumetric) {
    return v + dq;
  } else {
    (void)dq;
    return v;
  }
}

}  // namespace calor
