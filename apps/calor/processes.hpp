#pragma once
// The processes of a run: MPI when calor is built with it (one process otherwise). Owns MPI's
// lifetime, knows who prints, and makes one rank's failure end the whole job without a hang.

#include <memory>
#include <string>

#include "calor/domain.hpp"
#include "calor/grid.hpp"

namespace calor::app {

class Processes {
 public:
  /// Joins MPI (when built with it) if `parallel` and an MPI launcher started this process
  /// (see launched_by_mpi); otherwise this is a single process.
  explicit Processes(bool parallel);
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }
  /// Ranks sharing this node (to split its cores between them).
  [[nodiscard]] int local_size() const { return local_size_; }
  [[nodiscard]] bool root() const { return rank_ == 0; }
  /// The domain of a grid for this job: the whole grid on one process, else an MPI block.
  [[nodiscard]] std::shared_ptr<const Domain> domain(const Grid& g, const Boundaries& bc) const;
  /// Collective: true if every rank says ok. When some failed, the lowest failed rank prints its
  /// `error` (prefixed with its rank when there are several) and every rank learns it.
  bool agree(bool ok, const std::string& error) const;
  /// Ends the whole job after reporting `error` from this rank (MPI_Abort with several ranks).
  [[noreturn]] void abort(const std::string& error, int code) const;
  /// Waits for every rank.
  void barrier() const;
  /// The largest `v` over the ranks.
  [[nodiscard]] double max(double v) const;
  /// True when mpiexec (or another MPI launcher) started this process; CALOR_MPI=0/1 overrides.
  static bool launched_by_mpi();
  /// "MPI (Open MPI v4.1.4)" or "not built".
  static std::string library();

 private:
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace calor::app
