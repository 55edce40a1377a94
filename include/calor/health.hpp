#pragma once
/// \file health.hpp
/// Is the solution still sane? Detects NaN, infinity and blow-up, and says where and why.

#include <string>

#include "calor/state.hpp"

namespace calor {

/// Values above this magnitude count as a blow-up (no stable run of a sane problem gets there).
inline constexpr double kBlowUp = 1e150;

/// Empty if every interior value of this process's block is finite and below kBlowUp; otherwise
/// a message naming the step, the value, its global cell and the stability number r against its
/// limit. Local: combine across ranks yourself. `threads` (> 1) share the scan, as the backend's
/// threads share a step (the same answer for any count).
std::string check_field(const State& s, int threads = 1);

}  // namespace calor
