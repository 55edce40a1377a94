// The spectral method behind the run loop: each advance() is one multiply and one inverse
// transform, whatever its number of steps, so the loop jumps straight from one scheduled event
// to the next. A restart (or a new field from Python) becomes the solver's new initial state.

#include <limits>
#include <memory>
#include <string>

#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "run/method.hpp"

namespace calor {

namespace {

class SpectralMethod final : public Method {
 public:
  SpectralMethod(const Config& c, const Comm& comm, int threads)
      : comm_(comm), wisdom_(c.run.fft_wisdom) {
    SpectralOptions so;
    so.mode = c.run.spectral_mode;
    so.threads = threads;
    so.planning = c.run.fft_planning;
    if (!wisdom_.empty()) import_fft_wisdom(wisdom_, comm_);
    solver_ = std::make_unique<SpectralSolver>(c.problem, so, comm_);
    if (!wisdom_.empty()) export_fft_wisdom(wisdom_, comm_);
  }

  void advance(std::int64_t n) override { solver_->advance_to(solver_->step_count() + n); }
  [[nodiscard]] std::int64_t step() const override { return offset_ + solver_->step_count(); }
  // Any number of steps costs one transform: one pass covers the whole run.
  [[nodiscard]] std::int64_t steps_per_pass() const override {
    return std::numeric_limits<std::int32_t>::max();
  }
  [[nodiscard]] State state() const override {
    State s = State::dense(solver_->problem(), step(), solver_->local_box(),
                           solver_->field().data(), comm_);
    // 1D under MPI each rank transforms the whole line (fftw_mpi.cpp).
    s.replicated = comm_.size() > 1 && solver_->problem().grid.dim == 1;
    return s;
  }
  void set_values(const Problem&) override {
    throw Error(
        "the spectral method takes all steps at once: it cannot change a boundary value or a "
        "source energy while it runs; use the stencil method (method = \"stencil\")");
  }
  void load(const std::vector<double>& block, std::int64_t step) override {
    // The solver takes the whole field on every rank.
    const Problem& p = solver_->problem();
    std::vector<double> global = comm_.gather(solver_->local_box(), block, p.grid);
    global.resize(static_cast<std::size_t>(p.grid.cells()));
    comm_.broadcast(global);
    solver_->set_initial(global);
    offset_ = step;
  }
  [[nodiscard]] Stats stats() const override { return solver_->stats(); }
  [[nodiscard]] std::vector<double> gather() const override { return solver_->gather(); }
  [[nodiscard]] std::string engine() const override { return "spectral"; }
  [[nodiscard]] int threads() const override { return solver_->options().threads; }
  [[nodiscard]] std::string reason() const override {
    return std::string(to_string(solver_->options().mode)) + " mode: " + solver_->describe();
  }
  [[nodiscard]] std::string processes() const override { return comm_.describe(); }

 private:
  const Comm& comm_;
  std::string wisdom_;
  std::unique_ptr<SpectralSolver> solver_;
  std::int64_t offset_ = 0;  // the step of the solver's initial state
};

}  // namespace

std::unique_ptr<Method> make_spectral_method(const Config& c, const Comm& comm, int threads) {
  return std::make_unique<SpectralMethod>(c, comm, threads);
}

}  // namespace calor
