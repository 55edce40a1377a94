// Without FFTW the spectral API still exists and every call says how to get FFTW. Built
// instead of plans.cpp, solver.cpp and wisdom.cpp when FFTW is missing (CMakeLists.txt).

#include <string>
#include <vector>

#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

namespace calor {

namespace {
[[noreturn]] void no_fftw() {
  throw Error(
      "this calor was built without FFTW, which the spectral method needs: install "
      "libfftw3-dev (and libfftw3-mpi-dev for MPI) and rebuild, or use the stencil method "
      "(method = \"stencil\")");
}
}  // namespace

namespace detail {
std::unique_lock<std::mutex> lock_fftw_planner() {
  no_fftw();
}
unsigned fftw_planner_flags(FftPlanning) {
  return 0;
}
std::unique_ptr<FftPlans> make_serial_fft_plans(const Grid&, const std::array<FftKind, 3>&, int,
                                                FftPlanning) {
  no_fftw();
}
std::unique_ptr<FftPlans> make_mpi_fft_plans(const Grid&, const std::array<FftKind, 3>&, int,
                                             FftPlanning, const Comm&) {
  no_fftw();
}
}  // namespace detail

FftPlans::~FftPlans() = default;
void FftPlans::forward() {
  no_fftw();
}
void FftPlans::backward() {
  no_fftw();
}

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o)
    : problem_(p), options_(o) {
  no_fftw();
}
SpectralSolver::~SpectralSolver() = default;
SpectralSolver::SpectralSolver(SpectralSolver&&) noexcept = default;
SpectralSolver& SpectralSolver::operator=(SpectralSolver&&) noexcept = default;
void SpectralSolver::init(std::unique_ptr<detail::FftPlans>) {
  no_fftw();
}
void SpectralSolver::transform(const std::vector<double>&, std::vector<double>&) {
  no_fftw();
}
void SpectralSolver::add_separable(std::vector<double>&, double, const std::array<index_t, 3>&) {
  no_fftw();
}
void SpectralSolver::set_initial(const std::vector<double>&) {
  no_fftw();
}
void SpectralSolver::advance_to(std::int64_t) {
  no_fftw();
}
std::vector<double> SpectralSolver::gather() const {
  no_fftw();
}
Stats SpectralSolver::stats() const {
  no_fftw();
}
std::string SpectralSolver::describe() const {
  no_fftw();
}
double SpectralSolver::planning_seconds() const {
  no_fftw();
}
bool import_fft_wisdom(const std::string&) {
  no_fftw();
}
void export_fft_wisdom(const std::string&) {
  no_fftw();
}

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o, const Comm&)
    : problem_(p), options_(o) {
  no_fftw();
}
bool import_fft_wisdom(const std::string&, const Comm&) {
  no_fftw();
}
void export_fft_wisdom(const std::string&, const Comm&) {
  no_fftw();
}

}  // namespace calor
