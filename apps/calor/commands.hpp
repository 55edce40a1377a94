#pragma once
// The subcommands of the `calor` program that live here (the benchmarks are in bench/cli).

#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/config.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace calor::app {

/// Exit statuses of `calor`, a contract with scripts and schedulers (README, `calor --help`):
/// 0 done; kExitFailed a run failed (blow-up, I/O); kExitUsage bad usage or input (a flag, a
/// setting, a file to read); kExitInterrupted (75, signals.hpp) stopped by a signal after a
/// checkpoint, to be requeued. Anything else is a crash.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

/// What `calor run` was asked to do.
struct RunCommand {
  std::string config_path;          ///< empty: no file
  std::vector<Override> overrides;  ///< from flags, in order
  bool json = false;
  bool progress = true;
  std::string save_npy;    ///< write the final interior here
  std::string restart;     ///< continue from this checkpoint
  bool force = false;      ///< restart although the physics changed
  bool overwrite = false;  ///< replace files calor did not write
};

/// What `calor render` was asked to do.
struct RenderOptions {
  std::string input, dataset, output;
  long long slice = -1;
  std::vector<double> range;  ///< lo, hi; empty: the field's own
  bool log = false;
};

int run_command(const RunCommand& o, const Comm& comm);
/// What `calor sweep` was asked to do.
struct SweepOptions {
  std::string file;        ///< the sweep file: shared settings and a [sweep] table of lists
  int threads = 0;         ///< threads per member (0: the default)
  std::string output_dir;  ///< each member's final field to DIR/member_NNNNN.h5
  std::string csv;         ///< the table as CSV too
  int jobs = 1;            ///< members at once, each in a process of its own when > 1
  long long member = -1;   ///< internal: run only this member and print its row (a job's child)
  bool no_progress = false;
};
/// Adds `calor sweep` and its options to `app`, filling `o`.
CLI::App* add_sweep_command(CLI::App& app, SweepOptions& o);
/// `calor sweep FILE`: every member, `jobs` at a time, then a table of their results. 0 if all
/// ran, kExitFailed if any member failed (its row says why).
int sweep_command(const SweepOptions& o);
/// `calor completion bash|zsh`: a completion script for the shell, from `app`'s options and the
/// key table.
int completion_command(const CLI::App& app, const std::string& shell);
/// `calor man`: the manual page (roff), from `app`'s options and the key table.
int man_command(const CLI::App& app);
int info_command();
int render_command(const RenderOptions& o);

}  // namespace calor::app
