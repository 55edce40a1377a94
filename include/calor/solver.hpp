#pragma once
/// \file solver.hpp
/// The time loop: owns the two fields, the backend and the halo, and counts steps and time.

#include <cstdint>
#include <memory>

#include "calor/backend.hpp"
#include "calor/domain.hpp"
#include "calor/field.hpp"
#include "calor/halo.hpp"
#include "calor/problem.hpp"
#include "calor/scheme.hpp"
#include "calor/stats.hpp"

namespace calor {

/// Solves one Problem with one Backend.
class Solver {
 public:
  /// Validates `problem`, allocates this process's fields and applies the initial condition.
  /// `domain` says which part of the grid this process owns (default: all of it).
  Solver(Problem problem, std::unique_ptr<Backend> backend,
         std::shared_ptr<const Domain> domain = nullptr);

  /// Advances `n` steps.
  void step(std::int64_t n);
  [[nodiscard]] const Problem& problem() const { return problem_; }
  [[nodiscard]] const Backend& backend() const { return *backend_; }
  /// Steps the backend takes per pass over the fields (Backend::steps_per_pass), the largest
  /// over the ranks (a collective call under MPI).
  [[nodiscard]] std::int64_t steps_per_pass() const {
    if (problem_.time_dependent()) return 1;  // step() takes one step at a time (time tables)
    return static_cast<std::int64_t>(
        domain_->max_over_ranks(static_cast<double>(backend_->steps_per_pass(cur_, *halo_))));
  }
  /// The current field, in the backend's memory space (a device backend's: device memory).
  [[nodiscard]] const Field& field() const { return cur_; }
  /// Mutable state, e.g. to set a custom initial field; the halo is refilled before each step.
  /// In the backend's memory space: load_interior() sets it from host memory in any space.
  [[nodiscard]] Field& field() {
    host_step_ = -1;  // the caller may change it: the host mirror is copied again when read
    return cur_;
  }
  /// The current field in host memory: field() itself for a CPU backend, else a mirror copied
  /// from the device when the step count has moved since the last copy. The one way a device
  /// field reaches outputs, statistics and checks.
  [[nodiscard]] const Field& host_field() const;
  /// Sets the interior from a dense host array (x fastest), in any memory space.
  void load_interior(const double* dense);
  [[nodiscard]] std::int64_t step_count() const { return steps_done_; }
  /// Replaces the boundary values (and time tables) and the point sources' energies (and
  /// tables) for the coming steps; the kinds of faces, the sources' cells and everything else
  /// stay (calor::Error if a face's kind or the number of sources differs).
  void set_values(const Boundaries& bc, const Sources& sources);
  /// Continues from step `step` (after a checkpoint's field was loaded into field()).
  void restart_at(std::int64_t step) {
    steps_done_ = step;
    host_step_ = -1;  // the mirror's step number may come round again with other values
  }
  [[nodiscard]] double time() const { return static_cast<double>(steps_done_) * problem_.dt; }
  /// Heat, min, max and L2 of the whole global interior (a collective call under MPI).
  [[nodiscard]] Stats stats() const { return domain_->reduce(local_statistics()).finish(); }
  /// This process's part of stats(), reduced where the field lives (Backend::statistics: a
  /// device field is not copied).
  [[nodiscard]] StatsAccumulator local_statistics() const { return backend_->statistics(cur_); }
  /// The global interior, dense and x fastest, on process 0; empty elsewhere (collective).
  [[nodiscard]] std::vector<double> gather() const { return domain_->gather(host_field()); }
  [[nodiscard]] const Domain& domain() const { return *domain_; }

 private:
  Problem problem_;
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const Domain> domain_;
  Field cur_, next_;
  mutable Field host_;                   ///< a device backend's host mirror (host_field)
  mutable std::int64_t host_step_ = -1;  ///< the step host_ holds; -1: none
  Scheme scheme_;
  std::unique_ptr<Halo> halo_;
  std::int64_t steps_done_ = 0;
};

}  // namespace calor
