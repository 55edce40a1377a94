#pragma once
// The subcommands of the `calor` program.

#include <string>
#include <vector>

#include "calor/config.hpp"

namespace calor::app {

/// What `calor run` was asked to do.
struct RunOptions {
  std::string config_path;          ///< empty: no file
  std::vector<Override> overrides;  ///< from flags, in order
  bool json = false;
  bool progress = true;
  std::string save_npy;  ///< write the final interior here
};

int run_command(const RunOptions& o);
int info_command();

}  // namespace calor::app
