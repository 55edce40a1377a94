// What the spectral method accepts, and which transform each axis takes: the parts of the
// spectral solver that do not need FFTW.

#include <array>
#include <string>

#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

#if defined(CALOR_HAVE_FFTW)
#include <fftw3.h>
#endif

namespace calor {

std::string_view to_string(SpectralMode m) {
  return m == SpectralMode::continuous ? "continuous" : "discrete";
}

SpectralMode spectral_mode_from_string(std::string_view s) {
  if (s == "continuous") return SpectralMode::continuous;
  if (s == "discrete") return SpectralMode::discrete;
  throw Error("unknown spectral mode '" + std::string(s) +
              "': expected \"discrete\" (the FTCS scheme's exact result) or \"continuous\" (the "
              "heat equation's)");
}

bool spectral_available() {
#if defined(CALOR_HAVE_FFTW)
  return true;
#else
  return false;
#endif
}

std::string spectral_library() {
#if defined(CALOR_HAVE_FFTW_MPI)
  return std::string("FFTW ") + fftw_version + " (threads: fftw3_omp; MPI: fftw3_mpi)";
#elif defined(CALOR_HAVE_FFTW)
  return std::string("FFTW ") + fftw_version + " (threads: fftw3_omp; no MPI)";
#else
  return "none: the spectral method is off (install libfftw3-dev and rebuild)";
#endif
}

void check_spectral(const Problem& p, SpectralMode mode) {
  p.validate();
  const std::string hint = "; use the stencil method instead (method = \"stencil\")";
  if (!p.diffusivity.empty())
    throw Error(
        "the spectral method needs one alpha everywhere, but a diffusivity field is given (its "
        "Fourier modes would couple)" +
        hint);
  if (!p.sources.field.empty())
    throw Error("the spectral method has no heat-source field (sources.field)" + hint);
  if (p.time_dependent())
    throw Error(
        "the spectral method takes all steps at once and cannot follow a time table (a boundary "
        "value or source energy that changes)" +
        hint);
  for (int a = 0; a < p.grid.dim; ++a) {
    for (int side = 0; side < 2; ++side) {
      const Boundary& b = p.boundaries.face[a][side];
      if (b.kind == BoundaryKind::neumann || b.kind == BoundaryKind::robin)
        throw Error("the spectral method cannot solve boundary." + face_name(a, side) + " = " +
                    describe(b) + ": it handles periodic and Dirichlet-0 faces only" + hint);
      if (b.kind == BoundaryKind::dirichlet && b.value != 0.0)
        throw Error("the spectral method cannot solve boundary." + face_name(a, side) + " = " +
                    describe(b) +
                    ": only a Dirichlet value of 0 has a sine basis (subtract the steady state "
                    "yourself to use it)" +
                    hint);
    }
    const Boundary& lo = p.boundaries.face[a][0];
    const Boundary& hi = p.boundaries.face[a][1];
    if (lo.kind != hi.kind)
      throw Error("the spectral method needs one kind on both faces of an axis, but boundary." +
                  face_name(a, 0) + " = " + describe(lo) + " and boundary." + face_name(a, 1) +
                  " = " + describe(hi) + hint);
  }
  if (mode == SpectralMode::continuous && !p.sources.points.empty())
    throw Error(
        "the continuous spectral mode has no point sources (they add energy at the scheme's "
        "step times): use the discrete mode, which includes them exactly, or the stencil "
        "method (method = \"stencil\")");
}

index_t FftPlans::spectral_values() const {
  index_t v = complex ? 2 : 1;
  for (const detail::FftAxis& a : spec_axes)
    v *= a.count;
  return v;
}

namespace detail {

std::array<FftKind, 3> fft_kinds(const Problem& p) {
  bool all_periodic = true;
  for (int a = 0; a < p.grid.dim; ++a)
    all_periodic = all_periodic && p.boundaries.periodic(a);
  std::array<FftKind, 3> k{FftKind::dft, FftKind::dft, FftKind::dft};
  for (int a = 0; a < p.grid.dim; ++a) {
    if (!p.boundaries.periodic(a))
      k[a] = FftKind::dst1;
    else if (!all_periodic)
      k[a] = FftKind::r2hc;
    else
      k[a] = a == 0 ? FftKind::dft_half : FftKind::dft;
  }
  return k;
}

std::string describe_kinds(int dim, const std::array<FftKind, 3>& kinds) {
  if (kinds[0] == FftKind::dft_half) return "r2c/c2r";
  std::string s = "r2r (";
  for (int a = dim - 1; a >= 0; --a)
    s += std::string(kinds[a] == FftKind::dst1 ? "RODFT00" : "R2HC") + (a > 0 ? " x " : ")");
  return s;
}

}  // namespace detail

}  // namespace calor
