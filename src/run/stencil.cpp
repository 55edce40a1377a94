// The stencil method: a Solver (a backend stepping fields with halos over a Domain) seen
// through the Method interface.

#include <memory>
#include <string>

#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"
#include "run/method.hpp"

namespace calor {

State host_state(const Field& f, const Problem& p, std::int64_t step, const Box& box,
                 const Comm& comm) {
  // The one way a field reaches outputs, checks and Python: a device backend's field comes
  // here as the solver's host mirror (Solver::host_field).
  if (f.space() != MemorySpace::host)
    throw Error(std::string("a ") + to_string(f.space()) +
                " field has no host view: read it through Solver::host_field()");
  State s;
  s.problem = &p;
  s.step = step;
  s.time = static_cast<double>(step) * p.dt;
  s.box = box;
  s.cells = f.raw() + f.offset(0, 0, 0);
  s.stride_y = f.stride_y();
  s.stride_z = f.stride_z();
  s.comm = &comm;
  return s;
}

namespace {

class StencilMethod final : public Method {
 public:
  StencilMethod(const Config& c, const Comm& comm, int threads) : comm_(comm) {
    const BackendOptions bo{threads, c.run.tile_depth, c.run.tile_width};
    auto domain = comm.domain(c.problem.grid, c.problem.boundaries);
    // "auto" judges a process's block, not the whole grid: the largest any rank has (they differ
    // by a cell at most), so that every rank picks alike. (A tiled rank beside a plain one would
    // run plain sweeps: the halo is as wide as the narrowest any rank wants.)
    Grid block = domain->box().grid_in(c.problem.grid);
    for (int a = 0; a < block.dim; ++a)
      block.n[a] = static_cast<index_t>(domain->max_over_ranks(static_cast<double>(block.n[a])));
    // The speed of the last-level cache, measured by each process, is agreed for the same
    // reason: the least any measured.
    if (c.run.backend == "auto" && comm.size() > 1)
      use_llc_sweep_speed(-domain->max_over_ranks(-llc_sweep_speed()));
    auto backend = select_backend(c.run.backend, bo, block, &reason_);
    solver_ = std::make_unique<Solver>(c.problem, std::move(backend), std::move(domain));
  }

  void advance(std::int64_t n) override { solver_->step(n); }
  [[nodiscard]] std::int64_t step() const override { return solver_->step_count(); }
  [[nodiscard]] std::int64_t steps_per_pass() const override { return solver_->steps_per_pass(); }
  [[nodiscard]] State state() const override {
    return host_state(solver_->host_field(), solver_->problem(), step(), solver_->domain().box(),
                      comm_);
  }
  void load(const std::vector<double>& block, std::int64_t step) override {
    solver_->load_interior(block.data());
    solver_->restart_at(step);
  }
  // Statistics are reduced where the field lives (no copy of a device field); gathers read the
  // field through its host view, as outputs do.
  [[nodiscard]] Stats stats() const override { return solver_->stats(); }
  // On a device the statistics say "healthy" without copying the field; only a field they
  // cannot clear is copied, to find the cell.
  [[nodiscard]] std::string check_health() const override {
    if (space() == MemorySpace::device && solver_->local_statistics().surely_within(kBlowUp))
      return {};
    return check_field(state(), solver_->backend().threads());
  }
  [[nodiscard]] std::vector<double> gather() const override { return state().gather(); }
  [[nodiscard]] std::string engine() const override {
    return std::string(solver_->backend().name());
  }
  [[nodiscard]] std::string reason() const override { return reason_; }
  [[nodiscard]] std::string plan() const override { return solver_->backend().plan(); }
  [[nodiscard]] std::string processes() const override { return solver_->domain().describe(); }
  [[nodiscard]] int threads() const override { return solver_->backend().threads(); }
  // A device backend's field has no host memory to view in place: nullptr, so that Python
  // gets a read-only copy (the host mirror) and writes go through load().
  [[nodiscard]] Field* field() override {
    return space() == MemorySpace::host ? &solver_->field() : nullptr;
  }
  [[nodiscard]] Field* device_field() override {
    return space() == MemorySpace::device ? &solver_->field() : nullptr;
  }
  void set_values(const Problem& p) override { solver_->set_values(p.boundaries, p.sources); }

 private:
  // Through the const field(): the mutable one tells the solver its host mirror is stale.
  [[nodiscard]] MemorySpace space() const {
    return static_cast<const Solver&>(*solver_).field().space();
  }

  const Comm& comm_;
  std::unique_ptr<Solver> solver_;
  std::string reason_;
};

}  // namespace

std::unique_ptr<Method> make_stencil_method(const Config& c, const Comm& comm, int threads) {
  return std::make_unique<StencilMethod>(c, comm, threads);
}

}  // namespace calor
