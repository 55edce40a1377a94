#pragma once
// Turns the runtime shape of a Scheme (dimension, stencil form, how heat sources are spread) into
// compile-time parameters, so that inner loops carry no branches. Shared by all CPU backends.

#include <utility>

#include "calor/scheme.hpp"

namespace calor::detail {

template <int D, StencilForm F, Heating H>
struct Shape {
  static constexpr int dim = D;
  static constexpr StencilForm form = F;
  static constexpr Heating heat = H;
  static constexpr bool conservative = is_conservative(F);
};

// The heatings each form is compiled for (each combination is a set of kernels to compile):
// the factored form has no source field (Problem::validate refuses it), the conservative one
// takes a uniform rate as a field (Scheme::from).
template <int D, StencilForm F, class Fn>
decltype(auto) dispatch_heating(const Scheme& s, Fn&& fn) {
  if constexpr (F != StencilForm::factored)
    if (s.heating == Heating::field) return fn(Shape<D, F, Heating::field>{});
  if constexpr (F != StencilForm::conservative)
    if (s.heating == Heating::uniform) return fn(Shape<D, F, Heating::uniform>{});
  return fn(Shape<D, F, Heating::none>{});
}

template <int D, class Fn>
decltype(auto) dispatch_form(const Scheme& s, Fn&& fn) {
  switch (s.form) {
    case StencilForm::factored:
      return dispatch_heating<D, StencilForm::factored>(s, std::forward<Fn>(fn));
    case StencilForm::conservative:
      return dispatch_heating<D, StencilForm::conservative>(s, std::forward<Fn>(fn));
    case StencilForm::expanded:
      break;
  }
  return dispatch_heating<D, StencilForm::expanded>(s, std::forward<Fn>(fn));
}

/// Calls fn(Shape<dim, form, heating>{}) matching `s`.
template <class Fn>
decltype(auto) dispatch(const Scheme& s, Fn&& fn) {
  if (s.dim == 1) return dispatch_form<1>(s, std::forward<Fn>(fn));
  if (s.dim == 2) return dispatch_form<2>(s, std::forward<Fn>(fn));
  return dispatch_form<3>(s, std::forward<Fn>(fn));
}

}  // namespace calor::detail
