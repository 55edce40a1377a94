#pragma once
/// \file spectral.hpp
/// The spectral method: the state after any number of steps from one transform pair (FFTW).
///
/// On a periodic axis the FTCS operator is diagonal in the Fourier basis; on a Dirichlet-zero axis
/// of calor's node-based grid (cells at x = (i+1)h, boundary nodes at 0 and (n+1)h holding 0) it
/// is diagonal in the sine basis sin(pi (i+1)(m+1)/(n+1)), which is FFTW's RODFT00 (DST-I). So a
/// mode's amplitude after T steps is its initial amplitude times G^T, where
///     G = 1 - 4 sum_d r_d sin^2(theta_d),  theta_d = pi m_d / n_d (periodic) or
///                                          pi (m_d + 1) / (2 (n_d + 1)) (Dirichlet 0)
/// is the amplification factor of u' = u + sum_d r_d (u_{-d} - 2u + u_{+d}), and sources injected
/// after every step add s_hat * sum_{m<T} G^m = s_hat (1 - G^T) / (1 - G). That is the `discrete`
/// mode: the exact result of the stencil, up to rounding, at any step count. The `continuous`
/// mode multiplies by exp(-alpha |k|^2 t) instead: the exact solution of the PDE for the initial
/// state's trigonometric interpolant.
///
/// Mixed axes (some periodic, some Dirichlet 0) use FFTW's separable r2r transform with R2HC on
/// the periodic axes: its cosine and sine rows of one wavenumber share the eigenvalue, so the
/// operator stays diagonal. All-periodic problems use the faster r2c/c2r pair.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "calor/box.hpp"
#include "calor/comm.hpp"
#include "calor/problem.hpp"
#include "calor/spectral_options.hpp"
#include "calor/stats.hpp"

struct fftw_plan_s;  // FFTW's plan type, so that this header does not need <fftw3.h>

namespace calor {

/// How the spectral solver computes.
struct SpectralOptions {
  SpectralMode mode = SpectralMode::discrete;
  int threads = 0;  ///< FFTW threads per process (fftw3_omp); 0 = calor::default_threads()
  FftPlanning planning = FftPlanning::estimate;
};

/// True for FFTW builds (built with FFTW); the spectral solver throws calor::Error otherwise.
bool spectral_available();
/// "FFTW fftw-3.3.10-sse2-avx (threads, MPI)" or why there is none, for `calor info`.
std::string spectral_library();

/// Throws calor::Error, naming the face or setting and suggesting the stencil method, if `p`
/// cannot be solved spectrally in `mode`: Neumann faces, non-zero Dirichlet values, different
/// kinds on the two faces of one axis, point sources in continuous mode, or an invalid problem.
void check_spectral(const Problem& p, SpectralMode mode);

class FftPlans;  // the planned transforms (src/spectral/plans.hpp)

/// Solves one Problem by transforms: construction plans the transforms once and transforms the
/// initial state and the sources; each advance_to() is then one multiply and one inverse
/// transform, whatever the step count.
class SpectralSolver {
 public:
  /// Up to this many point sources are transformed in closed form, more by one forward FFT.
  static constexpr std::size_t kAnalyticSources = 32;

  /// Checks `p` (see check_spectral), plans the transforms and transforms the initial state.
  explicit SpectralSolver(const Problem& p, const SpectralOptions& o = {});
  SpectralSolver(const Problem& p, SpectralMode mode, int threads = 0)
      : SpectralSolver(p, SpectralOptions{mode, threads, FftPlanning::estimate}) {}
  ~SpectralSolver();
  SpectralSolver(SpectralSolver&&) noexcept;
  SpectralSolver& operator=(SpectralSolver&&) noexcept;
  SpectralSolver(const SpectralSolver&) = delete;
  SpectralSolver& operator=(const SpectralSolver&) = delete;

  /// Replaces the initial state by `global` (dense, x fastest, grid.cells() values; under MPI
  /// every rank passes the whole field) and resets the step count to 0 (collective).
  void set_initial(const std::vector<double>& global);
  /// Sets the state to the solution `steps` steps (time steps * dt) after the initial state:
  /// one inverse transform (collective).
  void advance_to(std::int64_t steps);
  /// advance_to(problem().steps).
  void solve() { advance_to(problem_.steps); }

  [[nodiscard]] const Problem& problem() const { return problem_; }
  [[nodiscard]] const SpectralOptions& options() const { return options_; }
  [[nodiscard]] std::int64_t step_count() const { return steps_; }
  [[nodiscard]] double time() const { return static_cast<double>(steps_) * problem_.dt; }
  /// This process's cells of the state, dense and x fastest, covering local_box().
  [[nodiscard]] const std::vector<double>& field() const { return field_; }
  /// The global cells field() holds (the whole grid on one process).
  [[nodiscard]] Box local_box() const { return box_; }
  /// The global state, dense and x fastest, on rank 0; empty elsewhere (collective).
  [[nodiscard]] std::vector<double> gather() const;
  /// Heat, min, max and L2 of the global state (collective).
  [[nodiscard]] Stats stats() const;
  /// E.g. "FFTW fftw-3.3.10-sse2-avx, r2r (RODFT00 x RODFT00) by r2c lines, 2 threads, 1 process".
  [[nodiscard]] std::string describe() const;
  /// Seconds FFTW spent planning this solver's transforms.
  [[nodiscard]] double planning_seconds() const;
  /// Distributed over the ranks of `comm` (collective) in FFTW-MPI slabs along the outermost
  /// axis; 1D problems are computed whole on every rank (FFTW-MPI has no 1D real transforms).
  /// On one process, the same as the constructor without `comm`. Throws calor::Error on
  /// several ranks when calor was built without FFTW's MPI library.
  SpectralSolver(const Problem& p, const SpectralOptions& o, const Comm& comm);

 private:
  void init(std::unique_ptr<FftPlans> plans);
  void init_eigenvalues();    // eig_ and norm_
  void init_initial_state();  // field_ at step 0 and u0_hat_
  void init_sources();        // s_hat_
  void transform(const std::vector<double>& local, std::vector<double>& spectral);
  /// Adds weight times the transform of a unit impulse at cell `at` (of the constant 1 where
  /// every entry is -1) to `target`, in closed form.
  void add_separable(std::vector<double>& target, double weight, const std::array<index_t, 3>& at);

  Problem problem_;
  SpectralOptions options_;
  std::unique_ptr<FftPlans> plans_;
  std::array<std::vector<double>, 3> eig_;  ///< per axis and spectral index: 4 r sin^2 or alpha k^2
  double norm_ = 1;                         ///< 1 / (the transform pair's scale)
  std::vector<double> u0_hat_, s_hat_;      ///< transforms of the initial state and the sources
  bool has_u0_ = false, has_sources_ = false;
  std::vector<double> field_;
  Box box_;
  std::int64_t steps_ = 0;
};

/// Loads FFTW wisdom (plans measured before) from `path`; later plans of the same shape and flags
/// are then instant. Returns false if the file does not exist; throws calor::Error if it is not
/// FFTW wisdom.
bool import_fft_wisdom(const std::string& path);
/// Saves the wisdom of every plan made so far to `path`; throws calor::Error if it cannot.
void export_fft_wisdom(const std::string& path);
/// import_fft_wisdom on rank 0, then broadcast to every rank of `comm` (collective).
bool import_fft_wisdom(const std::string& path, const Comm& comm);
/// Gathers every rank's wisdom to rank 0, which saves it (collective).
void export_fft_wisdom(const std::string& path, const Comm& comm);

}  // namespace calor
