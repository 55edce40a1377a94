#pragma once
/// \file comm.hpp
/// The processes of a run: one process, or the ranks of an MPI communicator. Knows who prints,
/// splits a node's cores between its ranks, makes the ranks agree before they go on, and ends
/// the whole job (never a hang) when one rank cannot.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "calor/boundary.hpp"
#include "calor/box.hpp"
#include "calor/domain.hpp"
#include "calor/grid.hpp"
#include "calor/stats.hpp"

namespace calor {

/// A group of processes that run one simulation together. Cheap to copy (shared state).
class Comm {
 public:
  /// One process, no MPI.
  Comm();
  ~Comm();
  Comm(const Comm&);
  Comm& operator=(const Comm&);

  /// The job's processes: joins MPI (when built with it, and not joined yet) if `parallel` and
  /// an MPI launcher started this process (see launched_by_mpi()), and leaves it when the last
  /// copy of the returned Comm goes; otherwise one process.
  static Comm world(bool parallel = true);
  /// The ranks of an MPI communicator given by its Fortran handle (MPI_Comm_c2f, mpi4py's
  /// py2f()); MPI must be running. Throws calor::Error if calor was built without MPI, MPI is
  /// not running, or the handle is MPI_COMM_NULL.
  static Comm from_handle(std::int64_t fortran_handle);

  [[nodiscard]] int rank() const;
  [[nodiscard]] int size() const;
  [[nodiscard]] bool root() const { return rank() == 0; }
  /// Ranks sharing this node.
  [[nodiscard]] int local_size() const;
  /// The CPUs this node's ranks may run on between them (their affinity masks together; one
  /// process: its own).
  [[nodiscard]] int node_cores() const;
  /// Threads per process when `requested` is 0: OMP_NUM_THREADS if set (per process, as OpenMP
  /// reads it), else an even share of node_cores() between the node's ranks, at most the rank's
  /// own cores (a rank bound to cores of its own keeps them all); otherwise `requested`.
  [[nodiscard]] int threads(int requested) const;
  /// Throws calor::Error if MPI's thread level is too low for `threads` threads per rank.
  void check_thread_level(int threads) const;
  /// The part of grid `g` this process owns: all of it on one process, else an MPI block.
  /// Throws calor::Error, on every rank alike, if the grid cannot be split this way.
  [[nodiscard]] std::shared_ptr<const Domain> domain(const Grid& g, const Boundaries& bc) const;

  /// Collective: nothing if `error` is empty on every rank; otherwise every rank throws the
  /// same calor::Error, with the first failing rank's message and that rank (Error::rank()).
  void agree_or_throw(const std::string& error) const;
  /// Ends the whole job after printing `error` from this rank (MPI_Abort with several ranks).
  [[noreturn]] void abort(const std::string& error, int code) const;
  void barrier() const;
  /// The largest `v` over the ranks.
  [[nodiscard]] double max(double v) const;
  /// The sum of `v` over the ranks, wrapping.
  [[nodiscard]] std::uint64_t sum(std::uint64_t v) const;
  /// Every rank's dense block (x fastest, covering its `mine`) assembled into the dense global
  /// interior of `g` on rank 0; other ranks get an empty vector (collective).
  [[nodiscard]] std::vector<double> gather(const Box& mine, const std::vector<double>& block,
                                           const Grid& g) const;
  /// Rank 0's `values` on every rank (collective; every rank passes a vector of the same size).
  void broadcast(std::vector<double>& values) const;
  /// Every rank's partial statistics combined in rank order, on every rank (collective).
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const;
  /// "1 process" or "6 ranks".
  [[nodiscard]] std::string describe() const;

  /// True when mpiexec (or another MPI launcher) started this process; CALOR_MPI=0/1 overrides.
  static bool launched_by_mpi();
  /// "Open MPI v4.1.4 (MPI 3.1)" or "not built".
  static std::string library();
  /// MPI_Get_library_version() whole ("" without MPI): what mpi4py must match.
  static std::string library_version();
  /// True when the MPI library reads and writes CUDA device memory itself (a CUDA-aware Open
  /// MPI, asked through MPIX_Query_cuda_support); CALOR_CUDA_AWARE=0 says no regardless. The
  /// cuda backend then hands MPI its device buffers; otherwise it stages them in pinned host
  /// memory.
  static bool reads_device_memory();
  /// reads_device_memory() in words, with the reason: for `calor info`.
  static std::string device_memory_support();
  /// True when calor was built with MPI.
  static bool have_mpi();
  /// True once MPI_Finalize has run (communicators may no longer be freed).
  static bool mpi_finalized();

  struct State;
  /// The shared state (for the parallel wing's own files).
  [[nodiscard]] const State& state() const { return *state_; }

 private:
  explicit Comm(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace calor
