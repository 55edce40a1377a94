#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <toml++/toml.h>
#include <CLI/Version.hpp>

#include "calor/backend.hpp"
#include "calor/version.hpp"
#include "commands.hpp"

namespace calor::app {

int info_command() {
  std::printf("calor %s\n", kVersion);
  std::printf("  compiler      %s\n", kCompiler);
  std::printf("  build         %s, flags: %s\n", kBuildType, kBuildFlags);
  std::printf("  backends     ");
  for (const auto& b : backend_names())
    std::printf(" %s", b.c_str());
  Grid study;
  study.n = {4800, 4800, 1};
  const auto [pick, why] = auto_backend_choice(study);
  std::printf("\n  auto          picks %s for the case study: %s\n", pick.c_str(), why.c_str());
  const char* omp = std::getenv("OMP_NUM_THREADS");
  std::printf("  threads       %u hardware threads; OMP_NUM_THREADS=%s\n",
              std::thread::hardware_concurrency(), omp ? omp : "(unset)");
  std::printf("  MPI           not built (see the MPI issue)\n");
  std::printf("  libraries     toml++ %d.%d.%d, CLI11 %s\n", TOML_LIB_MAJOR, TOML_LIB_MINOR,
              TOML_LIB_PATCH, CLI11_VERSION);
  return 0;
}

}  // namespace calor::app
