#pragma once
// `calor bench ...`: what each benchmark was asked to do, and its entry point. The command line
// (apps/calor) parses the flags into these; the library never depends on the benchmarks.

#include <string>
#include <vector>

#include "calor/comm.hpp"

namespace CLI {
class App;
}

namespace calor::bench {

/// What `calor bench node|scaling` was asked to do.
struct BenchOptions {
  bool quick = false;      ///< small sizes, one repetition (CI)
  bool auto_only = false;  ///< bench node: only the sweep of auto against the fastest backend
  int threads = 0;         ///< 0 = all
  std::string out;         ///< write OUT.json and OUT.md
  std::vector<int> ranks;  ///< bench scaling: process counts (default 1, 2, 4)
};

/// One measurement of `calor bench scaling`, run under mpiexec.
struct ScalingWorkerOptions {
  long long nx = 4800, ny = 4800, steps = 500;
  std::string backend = "simd";
  int threads = 1, depth = 0;
};

/// What `calor bench fft` was asked to do (bench/cli/bench_fft.cpp).
struct BenchFftOptions {
  std::vector<int> sizes;    ///< cube edges; empty = 64, 128, 256, 384, 576 (--quick: 32..128)
  std::vector<int> threads;  ///< empty = 1 and calor::default_threads()
  std::vector<int> ranks;    ///< FFTW-MPI process counts, one thread each; empty = 1, 2, 4
  int reps = 0;              ///< timed pairs per size; 0 = 5 (--quick: 2)
  bool quick = false;        ///< small sizes, ESTIMATE planning only (CI)
  bool no_mpi = false;       ///< no FFTW-MPI runs
  bool no_peers = false;     ///< no pyFFTW / mpi4py-fft runs (bench/fft/peers.py)
  std::string wisdom;        ///< import before and export after, if not empty
  std::string out;           ///< write OUT.json and OUT.md, if not empty
};

/// One FFTW-MPI measurement of `calor bench fft`, run under mpiexec (one thread per rank).
struct FftWorkerOptions {
  int n = 64;                        ///< cube edge
  std::string planner = "estimate";  ///< estimate or measure
  int reps = 5;                      ///< timed pairs
};

/// What `calor bench compare` was asked to do: compare.py's own flags, passed through.
struct CompareOptions {
  std::vector<std::string> args;
};

/// The `calor bench` subcommands and their flags, added to `app` as `bench ...`. After parsing,
/// parsed() says whether one of them was given, joins_mpi() whether it runs under mpiexec (the
/// hidden workers; the others launch mpiexec themselves) and run() runs it. Not copyable: the
/// flags write into its members.
class BenchCommands {
 public:
  explicit BenchCommands(CLI::App& app);
  BenchCommands(const BenchCommands&) = delete;
  BenchCommands& operator=(const BenchCommands&) = delete;

  [[nodiscard]] bool parsed() const;
  [[nodiscard]] bool joins_mpi() const;
  int run(const Comm& comm);

 private:
  void add_node_and_scaling(CLI::App& bench);
  void add_fft(CLI::App& bench);
  void add_compare(CLI::App& bench);
  void add_workers(CLI::App& bench);

  BenchOptions bench_opt_;
  BenchFftOptions fft_opt_;
  CompareOptions compare_opt_;
  ScalingWorkerOptions worker_opt_;
  FftWorkerOptions fft_worker_opt_;
  CLI::App *node_ = nullptr, *scaling_ = nullptr, *fft_ = nullptr, *compare_ = nullptr;
  CLI::App *worker_ = nullptr, *fft_worker_ = nullptr;
};

int bench_node_command(const BenchOptions& o);
int bench_scaling_command(const BenchOptions& o);
int bench_scaling_worker(const ScalingWorkerOptions& o, const Comm& comm);
int bench_fft_command(const BenchFftOptions& o);
int bench_fft_worker(const FftWorkerOptions& o, const Comm& comm);
int bench_compare_command(const CompareOptions& o);

}  // namespace calor::bench
