#pragma once
/// \file analytic.hpp
/// Exact solutions of the continuous heat equation, for verification.

#include <optional>

#include "calor/field.hpp"
#include "calor/problem.hpp"

namespace calor {

/// The exact solution at time `t` of a Gaussian initial condition on a fully periodic domain with
/// no sources: amplitude (s0^2/(s0^2 + 2 alpha t))^(D/2) exp(-|x-c|^2 / (2 (s0^2 + 2 alpha t))),
/// summed over the nearest periodic images.
double gaussian_solution(const Problem& p, double t, index_t i, index_t j, index_t k);

/// Root-mean-square difference between `f` and the analytic solution at time `t`, or nothing if
/// the problem has no analytic solution (not a periodic Gaussian without sources).
std::optional<double> analytic_error(const Problem& p, const Field& f, double t);

}  // namespace calor
