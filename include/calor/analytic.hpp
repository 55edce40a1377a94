#pragma once
/// \file analytic.hpp
/// Exact solutions of the continuous heat equation, for verification.

#include <optional>
#include <vector>

#include "calor/field.hpp"
#include "calor/problem.hpp"

namespace calor {

/// The exact solution at time `t` of a Gaussian initial condition on a fully periodic domain with
/// no sources: amplitude (s0^2/(s0^2 + 2 alpha t))^(D/2) exp(-|x-c|^2 / (2 (s0^2 + 2 alpha t))),
/// summed over the nearest periodic images.
double gaussian_solution(const Problem& p, double t, index_t i, index_t j, index_t k);

/// True for a Gaussian on a fully periodic domain without sources.
bool has_analytic_solution(const Problem& p);

/// Root-mean-square difference between the global interior `u` (dense, x fastest) and the
/// analytic solution at time `t`, or nothing if the problem has none.
std::optional<double> analytic_error(const Problem& p, const std::vector<double>& u, double t);

}  // namespace calor
