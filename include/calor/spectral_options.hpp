#pragma once
/// \file spectral_options.hpp
/// The spectral method's choices as values: what it computes and how hard FFTW plans. Apart from
/// spectral.hpp so that the configuration can hold them without the solver's API.

#include <string_view>

namespace calor {

/// What the spectral solver computes.
enum class SpectralMode {
  continuous,  ///< the heat equation itself: each mode decays as exp(-alpha |k|^2 t)
  discrete,    ///< the FTCS scheme: each mode is multiplied by G per step (matches the stencil)
};

/// "continuous" or "discrete".
std::string_view to_string(SpectralMode m);
/// Parses "continuous" or "discrete"; throws calor::Error naming the value otherwise.
SpectralMode spectral_mode_from_string(std::string_view s);

/// How hard FFTW searches for a fast plan: estimate plans at once; measure times candidates
/// (seconds to minutes for large grids, instant with imported wisdom); patient searches longer.
enum class FftPlanning { estimate, measure, patient };

}  // namespace calor
