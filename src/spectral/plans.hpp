#pragma once
// The spectral solver's transforms: planned FFTW transform pairs, serial (plans.cpp) or FFTW-MPI
// slabs (fftw_mpi.cpp), and the planner helpers they share. Private to src/spectral and bench.

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/spectral.hpp"

namespace calor {

namespace detail {

/// One axis of a transform's local array, outermost first (internal to the spectral solver).
struct FftAxis {
  int axis = 0;        ///< calor axis (0 = x)
  index_t global = 1;  ///< length of the whole axis
  index_t start = 0;   ///< first index held by this process
  index_t count = 1;   ///< indices held by this process
};

/// The transform kind of one calor axis.
enum class FftKind {
  dft,       ///< periodic, complex DFT (an outer axis of an r2c transform)
  dft_half,  ///< periodic, r2c along x: indices 0 .. n/2
  r2hc,      ///< periodic within an r2r transform (halfcomplex: r0 .. r(n/2), i(..) .. i1)
  dst1,      ///< Dirichlet 0: RODFT00
};

}  // namespace detail

/// A planned, in-place forward/backward transform pair over one FFTW buffer: serial (plans.cpp)
/// or FFTW-MPI slabs (fftw_mpi.cpp). Internal to SpectralSolver.
class FftPlans {
 public:
  FftPlans() = default;
  virtual ~FftPlans();
  FftPlans(const FftPlans&) = delete;
  FftPlans& operator=(const FftPlans&) = delete;

  /// Real data in buffer -> spectral data in buffer (unnormalised).
  virtual void forward();
  /// Spectral data in buffer -> real data in buffer (unnormalised; destroys the input).
  virtual void backward();
  /// Dense local fields of every process -> the global field on rank 0 (collective).
  [[nodiscard]] virtual std::vector<double> gather(const std::vector<double>& local) const {
    return local;
  }
  /// Combines every process's partial statistics (collective).
  [[nodiscard]] virtual StatsAccumulator reduce(const StatsAccumulator& local) const {
    return local;
  }
  /// True on every process if `v` is true on any (collective).
  [[nodiscard]] virtual bool any(bool v) const { return v; }
  [[nodiscard]] virtual int processes() const { return 1; }

  double* buffer = nullptr;  ///< FFTW-allocated, real layout and spectral layout in place
  std::vector<detail::FftAxis> real_axes;  ///< outermost first; the last is x
  index_t real_pitch = 0;                  ///< doubles from one x row to the next in `buffer`
  std::vector<detail::FftAxis> spec_axes;  ///< outermost first (may be transposed under MPI)
  bool complex = false;                    ///< spectral values are complex (two doubles each)
  std::array<detail::FftKind, 3> kinds{};  ///< per calor axis
  std::string description;                 ///< e.g. "r2c/c2r" or "r2r (RODFT00 x R2HC)"
  int threads = 1;                         ///< FFTW threads the plans use
  double planning_seconds = 0;             ///< wall time of the two planner calls
  fftw_plan_s* forward_plan = nullptr;
  fftw_plan_s* backward_plan = nullptr;

  /// Doubles of spectral data held by this process.
  [[nodiscard]] index_t spectral_values() const;
};

namespace detail {

using calor::FftPlans;

/// FFTW's planner is not thread-safe: every planner and wisdom call holds this lock. The first
/// call initialises FFTW's threads (fftw_init_threads, before any other FFTW call).
std::unique_lock<std::mutex> lock_fftw_planner();
/// FFTW_ESTIMATE, FFTW_MEASURE or FFTW_PATIENT.
unsigned fftw_planner_flags(FftPlanning p);
/// The transform kind of each active axis of `p` (inactive axes: dft).
std::array<FftKind, 3> fft_kinds(const Problem& p);
/// "r2c/c2r" or "r2r (RODFT00 x R2HC ...)", outermost axis first.
std::string describe_kinds(int dim, const std::array<FftKind, 3>& kinds);
/// FFTW-MPI slab plans over `comm` (fftw_mpi.cpp); in 1D, serial plans of the whole line on
/// every rank (FFTW-MPI parallelises only multi-dimensional real transforms). Throws
/// calor::Error when calor was built without FFTW's MPI library.
std::unique_ptr<FftPlans> make_mpi_fft_plans(const Grid& g, const std::array<FftKind, 3>& kinds,
                                             int threads, FftPlanning planning, const Comm& comm);
/// Serial plans of the whole grid.
std::unique_ptr<FftPlans> make_serial_fft_plans(const Grid& g, const std::array<FftKind, 3>& kinds,
                                                int threads, FftPlanning planning);

}  // namespace detail

}  // namespace calor
