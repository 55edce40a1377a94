#pragma once
// Turns the runtime shape of a Scheme (dimension, stencil form, volumetric source or not) into
// compile-time parameters, so that inner loops carry no branches. Shared by all CPU backends.

#include <utility>

#include "calor/scheme.hpp"

namespace calor::detail {

template <int D, StencilForm F, bool V>
struct Shape {
  static constexpr int dim = D;
  static constexpr StencilForm form = F;
  static constexpr bool volumetric = V;
};

template <int D, StencilForm F, class Fn>
decltype(auto) dispatch_volume(const Scheme& s, Fn&& fn) {
  if (s.dq != 0.0) return fn(Shape<D, F, true>{});
  return fn(Shape<D, F, false>{});
}

template <int D, class Fn>
decltype(auto) dispatch_form(const Scheme& s, Fn&& fn) {
  if (s.form == StencilForm::factored)
    return dispatch_volume<D, StencilForm::factored>(s, std::forward<Fn>(fn));
  return dispatch_volume<D, StencilForm::expanded>(s, std::forward<Fn>(fn));
}

/// Calls fn(Shape<dim, form, volumetric>{}) matching `s`.
template <class Fn>
decltype(auto) dispatch(const Scheme& s, Fn&& fn) {
  if (s.dim == 1) return dispatch_form<1>(s, std::forward<Fn>(fn));
  if (s.dim == 2) return dispatch_form<2>(s, std::forward<Fn>(fn));
  return dispatch_form<3>(s, std::forward<Fn>(fn));
}

/// Updates cells [i0, i1) of row (j, k): the innermost loop every CPU backend runs.
template <class S>
inline void sweep_row(const Scheme& s, const Field& in, Field& out, index_t j, index_t k,
                      index_t i0, index_t i1) {
  const index_t sy = in.stride_y(), sz = in.stride_z();
  const double* __restrict src = in.raw() + in.offset(0, j, k);
  double* __restrict dst = out.raw() + out.offset(0, j, k);
  const Coefficients c = s.coeffs;
  const double dq = s.dq;
  for (index_t i = i0; i < i1; ++i)
    dst[i] = cell_update<S::dim, S::form, S::volumetric>(c, src + i, sy, sz, dq);
}

}  // namespace calor::detail
