#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <toml++/toml.h>
#include <CLI/Version.hpp>

#include "calor/backend.hpp"
#include "calor/comm.hpp"
#include "calor/device.hpp"
#include "calor/image.hpp"
#include "calor/machine.hpp"
#include "calor/output.hpp"
#include "calor/spectral.hpp"
#include "calor/version.hpp"
#include "commands.hpp"

namespace calor::app {

namespace {

// The CUDA devices, or why the cuda backend cannot run here.
void print_gpus() {
  std::string why;
  const std::vector<DeviceInfo> devices = cuda_devices(&why);
  if (devices.empty()) {
    std::printf("  GPU           %s\n", why.c_str());
    return;
  }
  for (const DeviceInfo& d : devices)
    std::printf("  GPU %-9d %s, %s, compute capability %d.%d, %d multiprocessors\n", d.index,
                d.name.c_str(), memory_size(static_cast<double>(d.memory)).c_str(), d.major,
                d.minor, d.multiprocessors);
}

}  // namespace

int info_command() {
  std::printf("calor %s\n", kVersion);
  std::printf("  compiler      %s\n", kCompiler);
  std::printf("  build         %s, flags: %s\n", kBuildType, kBuildFlags);
  std::printf("  backends     ");
  for (const auto& b : backend_names())
    std::printf(" %s", b.c_str());
  Grid study;
  study.n = {4800, 4800, 1};
  const auto choice = auto_backend_choice(study, 0);
  std::printf("\n  auto          picks %s for the case study: %s\n", choice.name.c_str(),
              choice.reason.c_str());
  const Caches& cc = caches();
  std::printf("  caches        L1d %zu KiB, L2 %zu KiB, last level %zu MiB\n", cc.l1d >> 10,
              cc.l2 >> 10, cc.llc >> 20);
  const double speed = llc_sweep_speed();
  std::printf(
      "                a plain sweep runs %.2fx as fast from the last level as from the L2:"
      " %s\n",
      speed,
      llc_feeds_sweeps() ? "blocking pays once the fields outgrow the last level"
                         : "blocking pays once they outgrow the L2");
  const char* omp = std::getenv("OMP_NUM_THREADS");
  std::printf("  threads       %d by default (%u hardware threads; OMP_NUM_THREADS=%s)\n",
              default_threads(), std::thread::hardware_concurrency(), omp ? omp : "(unset)");
  print_gpus();
  std::printf("  MPI           %s\n", Comm::library().c_str());
  if (Comm::have_mpi() && cuda_compiled())
    std::printf("                %s\n", Comm::device_memory_support().c_str());
  std::printf("  output        %s, %s\n", io_library().c_str(), image_library().c_str());
  std::printf("  spectral      %s\n", spectral_library().c_str());
  std::printf("  libraries     toml++ %d.%d.%d, CLI11 %s\n", TOML_LIB_MAJOR, TOML_LIB_MINOR,
              TOML_LIB_PATCH, CLI11_VERSION);
  return 0;
}

}  // namespace calor::app
