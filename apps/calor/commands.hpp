#pragma once
// The subcommands of the `calor` program that live here (the benchmarks are in bench/cli).

#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/config.hpp"

namespace calor::app {

/// What `calor run` was asked to do.
struct RunCommand {
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

int run_command(const RunCommand& o, const Comm& comm);
int info_command();
int render_command(const RenderOptions& o);

}  // namespace calor::app
