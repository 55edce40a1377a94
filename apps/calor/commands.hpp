#pragma once
// The subcommands of the `calor` program.

#include <string>
#include <vector>

#include "calor/config.hpp"
#include "calor/spectral.hpp"

namespace calor::app {

/// What `calor run` was asked to do.
struct RunOptions {
  std::string config_path;          ///< empty: no file
  std::vector<Override> overrides;  ///< from flags, in order
  bool json = false;
  bool progress = true;
  std::string save_npy;  ///< write the final interior here
  std::string restart;   ///< continue from this checkpoint
  bool force = false;    ///< restart although the physics changed
};

/// What `calor render` was asked to do.
struct RenderOptions {
  std::string input, dataset, output;
  long long slice = -1;
};

/// What `calor bench ...` was asked to do.
struct BenchOptions {
  bool quick = false;      ///< small sizes, one repetition (CI)
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

class Processes;
int run_command(const RunOptions& o, const Processes& procs);
int bench_node_command(const BenchOptions& o);
int bench_scaling_command(const BenchOptions& o);
int bench_scaling_worker(const ScalingWorkerOptions& o, const Processes& procs);
int bench_fft_command(const BenchFftOptions& o);
int bench_fft_worker(const FftWorkerOptions& o, const Processes& procs);
int bench_compare_command(const CompareOptions& o);
int info_command();
int render_command(const RenderOptions& o);

}  // namespace calor::app
