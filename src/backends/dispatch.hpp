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

}  // namespace calor::detail
