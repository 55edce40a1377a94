#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
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

// Whether "auto" tiles an n x n grid at `threads` threads, and if not what it runs instead.
bool auto_tiles_2d(index_t n, int threads, std::string* other) {
  Grid g;
  g.n = {n, n, 1};
  std::string name = auto_backend_choice(g, threads).name;
  if (name == "tiled") return true;
  *other = std::move(name);
  return false;
}

// Where "auto" tiles square 2D grids at `threads` threads, e.g. "tiled from 1045^2 (17.5 MB),
// threads otherwise": what this machine's caches and measured last-level speed make of the
// rule, found by asking auto_backend_choice along the edge n in steps of about 1%, each change
// then placed exactly by bisection.
std::string auto_2d_summary(int threads) {
  constexpr index_t kFirst = 16, kLast = 65536;
  std::vector<std::pair<index_t, index_t>> tiled;  // ranges of n, inclusive
  std::string other;                               // what runs outside them
  bool was = auto_tiles_2d(kFirst, threads, &other);
  // A device backend bids alike at every size that fits it (and asking its driver ~900 times
  // is not free).
  if (!was && backend_memory_space(other) != MemorySpace::host)
    return other + " wherever the two fields fit in the device's memory";
  if (was) tiled.emplace_back(kFirst, kLast);
  for (index_t prev = kFirst, n = kFirst + 1; n <= kLast;
       prev = n, n += std::max<index_t>(1, n / 100)) {
    const bool is = auto_tiles_2d(n, threads, &other);
    if (is == was) continue;
    index_t lo = prev, hi = n;  // the choice changes in (lo, hi]
    while (hi - lo > 1) {
      const index_t mid = lo + (hi - lo) / 2;
      (auto_tiles_2d(mid, threads, &other) == was ? lo : hi) = mid;
    }
    if (is)
      tiled.emplace_back(hi, kLast);
    else
      tiled.back().second = lo;
    was = is;
  }
  if (tiled.empty()) return other + " at every size";
  char mb[32];
  std::string out = "tiled";
  for (std::size_t i = 0; i < tiled.size(); ++i) {
    const auto [lo, hi] = tiled[i];
    const double bytes = 16.0 * static_cast<double>(lo * lo);  // the two fields
    std::snprintf(mb, sizeof mb, bytes < 1e5 ? "%.0f KB" : "%.1f MB",
                  bytes < 1e5 ? bytes / 1e3 : bytes / 1e6);
    out += (i == 0 ? " " : " and ") +
           (hi == kLast ? "from " + std::to_string(lo) + "^2 (" + mb + ")"
                        : std::to_string(lo) + "^2-" + std::to_string(hi) + "^2");
  }
  return other.empty() ? out : out + ", " + other + " otherwise";
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
      llc_feeds_sweeps() ? "blocking pays once the fields outgrow part of the last level"
                         : "blocking pays once they outgrow the L2");
  const int threads = default_threads();
  std::printf("                auto, square 2D grids at %d thread%s: %s\n", threads,
              threads == 1 ? "" : "s", auto_2d_summary(threads).c_str());
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
