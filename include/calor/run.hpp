#pragma once
/// \file run.hpp
/// The one run loop that `calor run`, the Python module and C++ programs all drive: it steps a
/// method (the stencil with a backend, or the spectral solver) in chunks, and between chunks
/// checks the field's health, writes the scheduled snapshots, PNG frames and checkpoints, calls
/// the monitors and the progress callback, and stops cleanly (with a checkpoint) on a signal.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/field.hpp"
#include "calor/output.hpp"
#include "calor/state.hpp"
#include "calor/stats.hpp"

namespace calor {

/// Progress of a run, passed to the progress callback.
struct RunProgress {
  std::int64_t step = 0;   ///< the step reached
  std::int64_t total = 0;  ///< the step the current advance() goes to
  double seconds = 0;      ///< wall time since the current advance() began
  std::int64_t first = 0;  ///< the step the current advance() began at (a restart's step)
  double time = 0;         ///< the simulated time reached
};

/// A callable run at scheduled steps on every rank with the current state; returning false
/// stops the run after this chunk (every rank stops if any returns false).
struct Monitor {
  Every every;
  std::function<bool(const State&)> call;
};

/// How a run is driven, beyond its configuration.
struct RunOptions {
  std::string restart;   ///< continue from this checkpoint ("" = start at step 0)
  bool force = false;    ///< restart although the physics changed (never the grid)
  std::string save_npy;  ///< write the final global field here as .npy (rank 0)
  std::string stop_checkpoint = "calor_checkpoint.h5";  ///< saved on a stop request when the
                                                        ///< configuration names no checkpoint
  double chunk_seconds = 0.5;  ///< steps are taken in chunks of about this long
  std::function<void(const RunProgress&)> progress;  ///< after each chunk, on every rank
  /// Asked after each chunk on every rank: true stops the run (as a signal would) after saving
  /// a checkpoint. E.g. Python's pending KeyboardInterrupt. It may throw; the state is then
  /// that of the last whole chunk.
  std::function<bool()> stop_requested;
  bool handle_signals = false;  ///< SIGINT, SIGTERM and SIGUSR1 stop the run (see signals.hpp)
  bool overwrite = false;       ///< replace existing files calor did not write (check_output_paths)
};

/// How an advance() ended.
enum class RunEnd {
  reached,      ///< the steps asked for were taken
  interrupted,  ///< a signal or stop_requested(): the state was saved to RunReport::checkpoint
  stopped,      ///< a monitor returned false
};

/// What a run did, for summaries.
struct RunReport {
  RunEnd end = RunEnd::reached;
  std::int64_t step = 0;   ///< the step reached
  std::int64_t ran = 0;    ///< steps taken by this advance()
  double seconds = 0;      ///< wall time of the slowest rank
  double io_seconds = 0;   ///< of which writing snapshots, frames and checkpoints (rank 0's)
  int files_written = 0;   ///< snapshots, frames and checkpoints written
  std::string checkpoint;  ///< the checkpoint saved when interrupted
  /// Cell updates per second over the run (global cells * steps / seconds), in millions.
  [[nodiscard]] double mlups(const Grid& g) const;
};

class Method;

/// One simulation: a configuration's problem, solved by its method on the processes of a Comm.
class Run {
 public:
  /// Builds the run of `config` on `comm` (collective): picks the backend, allocates the
  /// fields, applies the initial state, opens the outputs and, if options.restart names one,
  /// loads a checkpoint. A failure on any rank throws calor::Error on every rank with the first
  /// failing rank's message (no rank is left waiting).
  Run(const Config& config, const Comm& comm, RunOptions options = {});
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  /// Takes the problem's remaining steps (to problem().steps).
  RunReport run();
  /// Takes `steps` more steps (collective). The scheduled outputs and checks happen at their
  /// steps; the final-step outputs when problem().steps is reached.
  RunReport advance(std::int64_t steps);
  /// Adds a monitor, called at its schedule from the next advance() on.
  void add_monitor(Monitor m);

  [[nodiscard]] const Problem& problem() const { return config_.problem; }
  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] const Comm& comm() const { return comm_; }
  [[nodiscard]] RunOptions& options() { return options_; }
  [[nodiscard]] std::int64_t step() const;
  [[nodiscard]] double time() const { return static_cast<double>(step()) * problem().dt; }
  /// The step the run started from (> 0 after a restart).
  [[nodiscard]] std::int64_t first_step() const { return first_step_; }
  /// This process's block of the current field, in host memory.
  [[nodiscard]] State state() const;
  /// Heat, min, max and L2 of the global interior (collective).
  [[nodiscard]] Stats stats() const;
  /// The global interior, dense and x fastest, on rank 0; empty elsewhere (collective).
  [[nodiscard]] std::vector<double> gather() const;
  /// RMS error against the exact solution, if the problem has one (collective).
  [[nodiscard]] std::optional<double> analytic_error() const;
  /// Replaces this process's block of the field by `dense` (box().count() values, x fastest).
  /// The spectral method restarts its transforms from it (collective there).
  void set_block(const std::vector<double>& dense);

  /// Changes the boundary values and point-source energies from the next step on (collective:
  /// every rank gives the same): `set` edits a copy of the problem, whose faces' kinds and
  /// number of sources must stay. The stencil method only (calor::Error otherwise).
  void set_values(const std::function<void(Problem&)>& set);

  /// "stencil" or "spectral".
  [[nodiscard]] std::string method() const;
  /// The backend ("tiled", ...) or the spectral mode, and why it was chosen.
  [[nodiscard]] std::string engine() const;
  [[nodiscard]] std::string engine_reason() const;
  /// How the backend cut the grid (the tiled backend), or "".
  [[nodiscard]] std::string plan() const;
  /// "1 process", "6 ranks as 3 x 2".
  [[nodiscard]] std::string processes() const;
  /// Host threads per process the steps use: those asked for (--threads, or the default) where
  /// the backend is threaded (threads, tiled) or the method spectral, else 1.
  [[nodiscard]] int threads() const;
  /// Steps per pass over memory (the tiled block depth; 1 for plain sweeps), largest over ranks.
  [[nodiscard]] std::int64_t steps_per_pass() const;
  /// The stencil's current field (host memory), e.g. for a zero-copy NumPy view; nullptr for
  /// the spectral method and for a device backend (whose state() is a host copy). Valid until
  /// the next step.
  [[nodiscard]] Field* field();
  /// A device backend's current field (device memory), e.g. for a zero-copy DLPack view with
  /// the CUDA device type; nullptr otherwise. Valid until the next step.
  [[nodiscard]] Field* device_field();
  /// The outputs' descriptions, for summaries.
  [[nodiscard]] std::vector<std::string> outputs() const;
  /// Directories created for the outputs (they did not exist).
  [[nodiscard]] const std::vector<std::string>& created_directories() const {
    return created_dirs_;
  }

 private:
  struct Schedule;
  bool after_chunk(const RunProgress& p, std::int64_t chunk, RunReport& report);
  void restart(const std::string& path, bool force);
  [[nodiscard]] std::int64_t stride() const;
  [[nodiscard]] std::vector<PlannedFile> planned_files() const;

  Config config_;
  Comm comm_;
  RunOptions options_;
  std::int64_t first_step_ = 0;
  std::vector<std::string> created_dirs_;
  std::unique_ptr<Method> method_;
  std::unique_ptr<Schedule> schedule_;
};

/// make_run(config, comm): the Run of a configuration (see Run::Run).
std::unique_ptr<Run> make_run(const Config& config, const Comm& comm, RunOptions options = {});

}  // namespace calor
